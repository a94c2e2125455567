// Building the explorer's DOM without ever parsing HTML: every piece of text, above all every string from the log,
// goes in as a text node (never innerHTML), and attributes are set one by one. Links are built here from the
// page's own routes with their parts percent-encoded, so data cannot choose a scheme (no javascript: URLs).

export type Child = Node | string | number | undefined | null | false;

export function h(tag: string, attrs: Record<string, string> = {}, ...kids: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  append(el, ...kids);
  return el;
}

export function append(el: Node, ...kids: Child[]): void {
  for (const k of kids) {
    if (k === undefined || k === null || k === false) continue;
    el.appendChild(typeof k === 'string' || typeof k === 'number' ? document.createTextNode(String(k)) : k);
  }
}

/** A link to one of the page's routes, e.g. route('entry', uuid). */
export function routeLink(text: string, ...parts: string[]): HTMLElement {
  return h('a', { href: `#/${parts.map(encodeURIComponent).join('/')}` }, text);
}

/** A definition list of label → value rows (values as text or nodes). */
export function fields(rows: [string, Child][]): HTMLElement {
  const dl = h('dl');
  for (const [k, v] of rows) append(dl, h('dt', {}, k), h('dd', {}, v));
  return dl;
}

/** Preformatted text (checkpoints, PEM, JSON): always a text node. */
export const pre = (text: string) => h('pre', {}, text);

/** A check's result as the page shows it: "verified" or "failed", with the reason beside it. */
export function status(id: string, ok: boolean | undefined, detail: string): HTMLElement {
  const word = ok === undefined ? 'checking…' : ok ? 'verified' : 'failed';
  return h(
    'span',
    { class: `status ${ok === undefined ? 'pending' : ok ? 'ok' : 'bad'}`, 'data-check': id },
    h('strong', {}, word),
    ' ',
    h('span', { class: 'detail' }, detail),
  );
}

/** A labelled form field: <label for> and its input, for keyboard and screen-reader users alike. */
export function field(
  id: string,
  label: string,
  attrs: Record<string, string> = {},
  tag: 'input' | 'textarea' = 'input',
): HTMLElement {
  return h('p', { class: 'field' }, h('label', { for: id }, label), h(tag, { id, name: id, ...attrs }));
}
