// The explorer's shared view pieces: replacing the view (focus moves to its heading), error boxes, dates, a
// certificate or key as a definition list and a table of its extensions, and the rows of a verification table
// that fill in as each check settles. Every string goes in as text (dom.ts).
import type { Check } from './checks.js';
import { append, type Child, fields, h, pre, status } from './dom.js';
import type { KeyMaterial } from './entry.js';
import type { CertificateInfo } from './x509.js';

const main = () => document.getElementById('main') as HTMLElement;

/** Replaces the view and moves keyboard focus to its heading, so a keyboard user lands on the new content. */
export function show(title: string, ...kids: Child[]): HTMLElement {
  const heading = h('h1', { tabindex: '-1', id: 'view-title' }, title);
  main().replaceChildren(heading);
  append(main(), ...kids);
  document.title = `${title} · sigil explorer`;
  heading.focus();
  return main();
}

/** Replaces everything under the view's heading, leaving the heading (and keyboard focus on it) in place. */
export function below(view: HTMLElement, ...kids: Child[]): void {
  while (view.childNodes.length > 1) view.lastChild?.remove();
  append(view, ...kids);
}

export const errorBox = (err: unknown) =>
  h('p', { role: 'alert', class: 'error' }, (err as Error).message ?? String(err));
export const date = (d: Date) => (Number.isNaN(d.getTime()) ? '(invalid date)' : d.toISOString());
export const unixTime = (s: number) => date(new Date(s * 1000));

export function certificateView(c: CertificateInfo, path: string): HTMLElement {
  const now = Date.now();
  const validNow = c.notBefore.getTime() <= now && now <= c.notAfter.getTime();
  return h(
    'section',
    { class: 'certificate' },
    h('h3', {}, 'Certificate'),
    fields([
      ['Found at', path],
      [
        'Subject alternative names',
        h('ul', { class: 'san' }, ...c.subjectAltNames.map((s) => h('li', {}, `${s.type}: ${s.value}`))),
      ],
      ['OIDC issuer', c.oidcIssuer ?? '(none)'],
      ['Subject', c.subject || '(empty)'],
      ['Issued by', c.issuer],
      ['Serial', c.serial],
      ['Not before', date(c.notBefore)],
      [
        'Not after',
        `${date(c.notAfter)}${validNow ? '' : ' (expired now; what matters is validity at signing time)'}`,
      ],
      [
        'SCTs',
        c.scts.length
          ? h('ul', {}, ...c.scts.map((s) => h('li', {}, `log ${s.logId} at ${date(s.timestamp)}`)))
          : '(none)',
      ],
    ]),
    h(
      'table',
      { class: 'extensions' },
      h('caption', {}, 'Extensions'),
      h(
        'thead',
        {},
        h('tr', {}, ...['Name', 'OID', 'Critical', 'Value'].map((t) => h('th', { scope: 'col' }, t))),
      ),
      h(
        'tbody',
        {},
        ...c.extensions.map((e) =>
          h(
            'tr',
            {},
            h('td', {}, e.name ?? ''),
            h('td', {}, e.oid),
            h('td', {}, e.critical ? 'yes' : ''),
            h('td', { class: 'value' }, e.value),
          ),
        ),
      ),
    ),
  );
}

/** An entry's "Signer" section: each key or certificate its body holds, or `none` when it holds neither. */
export function signerSection(keys: KeyMaterial[] | undefined, none: string): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'keys-title' },
    h('h2', { id: 'keys-title' }, 'Signer'),
    ...(keys?.length ? keys.map(keyView) : [h('p', {}, none)]),
  );
}

export function keyView(k: KeyMaterial): HTMLElement {
  if (k.certificate) return certificateView(k.certificate, k.path);
  return h(
    'section',
    { class: 'key' },
    h('h3', {}, 'Public key'),
    fields(
      [
        ['Found at', k.path],
        ['Error', k.error ?? ''],
      ].filter((r) => r[1]) as [string, string][],
    ),
    pre(k.pem),
  );
}

/** One row of the verification table; its status cell is filled in when the check settles. */
export function checkRow(
  id: string,
  label: string,
  run: () => Promise<Check>,
): { row: HTMLElement; done: Promise<boolean> } {
  const cell = h('td', {}, status(id, undefined, ''));
  const row = h('tr', {}, h('th', { scope: 'row' }, label), cell);
  const done = run()
    .catch((err): Check => ({ ok: false, detail: (err as Error).message }))
    .then((c) => {
      cell.replaceChildren(status(id, c.ok, c.detail));
      return c.ok;
    });
  return { row, done };
}

/** Waits for every row, then sets the verdict paragraph to "verified" or "failed". */
export async function settle(rows: { done: Promise<boolean> }[], verdict: HTMLElement): Promise<void> {
  const ok = (await Promise.all(rows.map((r) => r.done))).every(Boolean);
  verdict.className = `verdict ${ok ? 'ok' : 'bad'}`;
  verdict.textContent = ok ? 'verified' : 'failed';
}

/** The verdict paragraph a page of checks starts with. */
export const verdictBox = () =>
  h('p', { id: 'verdict', role: 'status', class: 'verdict pending' }, 'checking…');
