// The explorer's page script (bundled to dist/web/static/explorer.js by scripts/bundle-web.mjs): a hash router
// over the views — home (search forms, latest entries, log summary), search results, one entry (decoded and
// verified here with WebCrypto), the log (checkpoints verified, consistency with the last one this browser saw),
// and in pages.ts one Rekor v2 entry, the CT log and the registry.
// It reads the log only over its public HTTP API, and writes every string from it as text (dom.ts).
import * as api from './api.js';
import { fromBase64, fromHex, toBase64, utf8 } from './bytes.js';
import {
  type Check,
  checkCheckpointSignature,
  checkConsistency,
  checkInclusion,
  checkProofCheckpoint,
  checkSet,
  importLogKey,
  type LogKey,
  parseCheckpointNote,
} from './checks.js';
import { append, type Child, field, fields, h, pre, routeLink, status } from './dom.js';
import { type DecodedBody, decodeBody, identityOf } from './entry.js';
import { checkV2Checkpoint, ctView, registryView, repositoryView, v2EntryView, v2Latest } from './pages.js';
import { below, checkRow, errorBox, settle, show, signerSection, unixTime, verdictBox } from './view.js';

const LAST_CHECKPOINT = 'sigil-explorer:last-checkpoint';
const MAX_RESULTS = 100;

let logKeyPromise: Promise<{ pem: string; key: LogKey }> | undefined;
/** The v1 log's key, fetched once per page load. */
function logKey(): Promise<{ pem: string; key: LogKey }> {
  logKeyPromise ??= api.logPublicKey().then(async (k) => ({ pem: k.pem, key: await importLogKey(k.spki) }));
  return logKeyPromise;
}

// ── Home: the search forms ──────────────────────────────────────────────────────────────────────────────────────

function form(
  id: string,
  legend: string,
  submit: string,
  onSubmit: (data: FormData) => void,
  ...inner: Child[]
) {
  const f = h(
    'form',
    { id, class: 'search', 'aria-labelledby': `${id}-legend` },
    h('h2', { id: `${id}-legend` }, legend),
    ...inner,
    h('button', { type: 'submit' }, submit),
  ) as HTMLFormElement;
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    onSubmit(new FormData(f));
  });
  return f;
}

const go = (path: string, params?: Record<string, string>) => {
  location.hash = `#/${path}${params ? `?${new URLSearchParams(params)}` : ''}`;
};
const value = (d: FormData, k: string) => String(d.get(k) ?? '').trim();

function searchForms(): HTMLElement {
  return h(
    'section',
    { class: 'forms', 'aria-label': 'Search the log' },
    form(
      'by-identity',
      'By identity',
      'Search identity',
      (d) => go('search', { identity: value(d, 'identity'), issuer: value(d, 'issuer') }),
      field('identity', 'Identity (email or URI SAN)', { required: '', autocomplete: 'off' }),
      field('issuer', 'OIDC issuer (optional)', { autocomplete: 'off' }),
    ),
    form(
      'by-digest',
      'By artifact digest',
      'Search digest',
      (d) => go('search', { digest: value(d, 'digest') }),
      field('digest', 'SHA-256 of the artifact (hex)', {
        required: '',
        pattern: '(sha256:)?[0-9a-fA-F]{64}',
        autocomplete: 'off',
      }),
    ),
    form(
      'by-key',
      'By public key',
      'Search key',
      (d) => go('search', { key: value(d, 'key') }),
      field('key', 'Public key or certificate (PEM)', { required: '', rows: '4' }, 'textarea'),
    ),
    form(
      'by-index',
      'By log index',
      'Open entry',
      (d) => go(`index/${value(d, 'index')}`),
      field('index', 'Log index', {
        required: '',
        inputmode: 'numeric',
        pattern: '[0-9]+',
        autocomplete: 'off',
      }),
    ),
    form(
      'by-uuid',
      'By entry UUID',
      'Open entry',
      (d) => go(`entry/${value(d, 'uuid')}`),
      field('uuid', 'Entry UUID or entry ID (hex)', {
        required: '',
        pattern: '[0-9a-fA-F]{64}|[0-9a-fA-F]{80}',
        autocomplete: 'off',
      }),
    ),
  );
}

/** A table of entries: index, time, kind, identity, each linking to its entry page. */
function entryTable(list: api.LogEntry[], caption: string): HTMLElement {
  const rows = list.map((e) => {
    let d: DecodedBody | undefined;
    try {
      d = decodeBody(e.body);
    } catch {
      // shown as undecodable below
    }
    const who = d ? identityOf(d) : { san: '(undecodable body)', issuer: '' };
    return h(
      'tr',
      {},
      h('td', {}, routeLink(String(e.logIndex), 'entry', e.uuid)),
      h('td', {}, unixTime(e.integratedTime)),
      h('td', {}, d ? d.kind : '?'),
      h('td', { class: 'identity' }, who.san),
      h('td', {}, who.issuer),
    );
  });
  return h(
    'table',
    { class: 'entries' },
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Log index', 'Integrated', 'Kind', 'Identity', 'Issuer'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h('tbody', {}, ...rows),
  );
}

async function home(): Promise<void> {
  const latest = h('section', { 'aria-label': 'Latest entries' }, h('p', {}, 'Loading the latest entries…'));
  const summary = h('section', { 'aria-label': 'Log summary' });
  show('Search the transparency log', searchForms(), summary, latest);
  try {
    const info = await api.logInfo();
    summary.replaceChildren(
      h('h2', {}, 'Log'),
      fields([
        ['Tree size', String(info.treeSize)],
        ['Root hash', info.rootHash],
        ['Details', routeLink('log info, checkpoints and key', 'log')],
      ]),
    );
    const from = Math.max(0, info.treeSize - 10);
    const indexes = Array.from({ length: info.treeSize - from }, (_, i) => info.treeSize - 1 - i);
    const list = indexes.length ? await api.retrieve({ logIndexes: indexes }) : [];
    latest.replaceChildren(
      h('h2', {}, 'Latest entries'),
      list.length ? entryTable(list, `The last ${list.length} entries`) : h('p', {}, 'The log is empty.'),
    );
  } catch (err) {
    latest.replaceChildren(errorBox(err));
  }
}

// ── Search ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** What the search form asked, as an index query and a description. */
function query(p: URLSearchParams): { q: api.SearchQuery; what: string; issuer?: string } {
  const identity = p.get('identity');
  if (identity) {
    const issuer = p.get('issuer') || undefined;
    const q = /^[^\s@/:]+@[^\s@]+$/.test(identity) ? { email: identity } : { subject: identity };
    return { q, what: `identity ${identity}${issuer ? ` issued by ${issuer}` : ''}`, issuer };
  }
  const digest = p.get('digest');
  if (digest) {
    const hex = digest.replace(/^sha256:/i, '').toLowerCase();
    return { q: { hash: `sha256:${hex}` }, what: `artifact sha256:${hex}` };
  }
  const key = p.get('key');
  if (key)
    return {
      q: { publicKey: { format: 'x509', content: toBase64(utf8(`${key.trim()}\n`)) } },
      what: 'this public key',
    };
  throw new Error('nothing to search for');
}

async function searchView(p: URLSearchParams): Promise<void> {
  let q: ReturnType<typeof query>;
  try {
    q = query(p);
  } catch (err) {
    show('Search', errorBox(err), searchForms());
    return;
  }
  const out = show(`Entries for ${q.what}`, h('p', { role: 'status' }, 'Searching…'));
  try {
    const uuids = await api.search(q.q);
    let list = await api.retrieve({ entryUUIDs: uuids.slice(0, MAX_RESULTS) });
    // The index knows SANs, not issuers: entries whose certificate names another issuer are dropped here.
    if (q.issuer) list = list.filter((e) => issuerOf(e) === q.issuer);
    list.sort((a, b) => b.logIndex - a.logIndex);
    const note =
      uuids.length > MAX_RESULTS ? ` (the first ${MAX_RESULTS} of ${uuids.length} matches are shown)` : '';
    below(
      out,
      h(
        'p',
        { role: 'status', id: 'result-count' },
        `${list.length} entr${list.length === 1 ? 'y' : 'ies'} found${note}.`,
      ),
      list.length ? entryTable(list, `Entries for ${q.what}`) : h('p', {}, 'No entry matches.'),
    );
  } catch (err) {
    out.append(errorBox(err));
  }
}

function issuerOf(e: api.LogEntry): string | undefined {
  try {
    return identityOf(decodeBody(e.body)).issuer;
  } catch {
    return undefined;
  }
}

// ── One entry ───────────────────────────────────────────────────────────────────────────────────────────────────

async function consistencyWithNow(proof: api.LogEntry['verification']): Promise<Check> {
  const p = proof?.inclusionProof;
  if (!p) return { ok: false, detail: 'no proof to compare' };
  const info = await api.logInfo();
  const { key } = await logKey();
  const cp = parseCheckpointNote(info.signedTreeHead);
  const sig = await checkCheckpointSignature(cp, key);
  if (!sig.ok) return { ok: false, detail: `the current checkpoint: ${sig.detail}` };
  if (cp.size < p.treeSize)
    return {
      ok: false,
      detail: `the current checkpoint (${cp.size}) is smaller than the proof's (${p.treeSize})`,
    };
  const hashes = cp.size === p.treeSize ? [] : await api.consistencyProof(p.treeSize, cp.size);
  return checkConsistency(
    { size: p.treeSize, root: fromHex(p.rootHash) },
    { size: cp.size, root: cp.rootHash },
    hashes,
  );
}

async function entryView(load: () => Promise<api.LogEntry>, label: string): Promise<void> {
  const out = show(`Entry ${label}`, h('p', { role: 'status' }, 'Loading…'));
  let e: api.LogEntry;
  try {
    e = await load();
  } catch (err) {
    below(out, errorBox(err));
    return;
  }
  (out.firstChild as HTMLElement).textContent = `Entry ${e.logIndex}`;
  document.title = `Entry ${e.logIndex} · sigil explorer`;
  const proof = e.verification?.inclusionProof;
  const body = fromBase64(e.body);
  const rows = [
    checkRow('inclusion', 'Inclusion proof (root recomputed in this page)', async () =>
      proof ? checkInclusion(body, proof) : { ok: false, detail: 'the log sent no inclusion proof' },
    ),
    checkRow('checkpoint', 'Checkpoint signed by the log', async () =>
      proof
        ? checkProofCheckpoint(proof, (await logKey()).key)
        : { ok: false, detail: 'no proof, no checkpoint' },
    ),
    checkRow('set', 'Signed entry timestamp', async () =>
      checkSet(e, e.verification?.signedEntryTimestamp, (await logKey()).key),
    ),
    checkRow('consistency', "Consistent with the log's current checkpoint", () =>
      consistencyWithNow(e.verification),
    ),
  ];
  const verdict = verdictBox();
  let decoded: DecodedBody | undefined;
  let decodeError: string | undefined;
  try {
    decoded = decodeBody(e.body);
  } catch (err) {
    decodeError = (err as Error).message;
  }
  below(
    out,
    h(
      'section',
      { 'aria-labelledby': 'verify-title' },
      h('h2', { id: 'verify-title' }, 'Verification'),
      verdict,
      h('table', { class: 'checks' }, h('tbody', {}, ...rows.map((r) => r.row))),
    ),
    h(
      'section',
      { 'aria-labelledby': 'overview-title' },
      h('h2', { id: 'overview-title' }, 'Overview'),
      fields([
        ['UUID', e.uuid],
        ['Entry ID', e.entryId],
        ['Log index', String(e.logIndex)],
        ['Integrated', unixTime(e.integratedTime)],
        ['Log ID', e.logID],
        ['Kind', decoded ? `${decoded.kind} ${decoded.apiVersion}` : `undecodable body: ${decodeError}`],
        ...((decoded?.summary ?? []) as [string, string][]),
      ]),
    ),
    signerSection(decoded?.keys, 'No key or certificate found in the body.'),
    h(
      'section',
      { 'aria-labelledby': 'proof-title' },
      h('h2', { id: 'proof-title' }, 'Inclusion proof'),
      proof
        ? fields([
            ['Tree size', String(proof.treeSize)],
            ['Root hash', proof.rootHash],
            ['Hashes', h('ol', { class: 'hashes' }, ...proof.hashes.map((x) => h('li', {}, x)))],
            ['Checkpoint', pre(proof.checkpoint ?? '(none)')],
          ])
        : h('p', {}, 'None.'),
      h('h3', {}, 'Signed entry timestamp'),
      pre(e.verification?.signedEntryTimestamp ?? '(none)'),
    ),
    h(
      'section',
      { 'aria-labelledby': 'body-title' },
      h('h2', { id: 'body-title' }, 'Body'),
      pre(decoded ? JSON.stringify(decoded.json, null, 2) : e.body),
    ),
  );
  await settle(rows, verdict);
}

// ── The log ─────────────────────────────────────────────────────────────────────────────────────────────────────

interface Seen {
  size: number;
  root: string;
}

async function logView(): Promise<void> {
  const out = show('Log', h('p', { role: 'status' }, 'Loading…'));
  try {
    const [info, key] = await Promise.all([api.logInfo(), logKey()]);
    const cp = parseCheckpointNote(info.signedTreeHead);
    const sig = await checkCheckpointSignature(cp, key.key);
    const seen = readSeen();
    let consistency: Check = { ok: true, detail: 'this browser has seen no earlier checkpoint of this log' };
    if (sig.ok && seen && seen.size <= cp.size) {
      const hashes =
        seen.size === cp.size || seen.size === 0 ? [] : await api.consistencyProof(seen.size, cp.size);
      consistency = await checkConsistency(
        { size: seen.size, root: fromBase64(seen.root) },
        { size: cp.size, root: cp.rootHash },
        hashes,
      );
    } else if (seen && seen.size > cp.size)
      consistency = {
        ok: false,
        detail: `the log shrank: this browser saw size ${seen.size}, now ${cp.size}`,
      };
    if (sig.ok && consistency.ok)
      localStorage.setItem(LAST_CHECKPOINT, JSON.stringify({ size: cp.size, root: toBase64(cp.rootHash) }));
    below(
      out,
      h('h2', {}, 'Rekor v1'),
      fields([
        ['Tree size', String(info.treeSize)],
        ['Root hash', info.rootHash],
        ['Tree ID', info.treeID ?? ''],
        ['Checkpoint signature', status('log-checkpoint', sig.ok, sig.detail)],
        [
          'Consistency with the last checkpoint seen here',
          status('log-consistency', consistency.ok, consistency.detail),
        ],
      ]),
      h('h3', {}, 'Checkpoint'),
      pre(info.signedTreeHead),
      h('h3', {}, 'Public key'),
      pre(key.pem),
    );
    append(out, await v2Section());
  } catch (err) {
    out.append(errorBox(err));
  }
}

function readSeen(): Seen | undefined {
  try {
    const s = JSON.parse(localStorage.getItem(LAST_CHECKPOINT) ?? 'null') as Seen | null;
    return s && Number.isSafeInteger(s.size) && typeof s.root === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** The Rekor v2 log's checkpoint, checked against the Ed25519 keys the trusted root names. */
async function v2Section(): Promise<HTMLElement | undefined> {
  const note = await api.v2Checkpoint();
  if (!note) return undefined;
  let check: Check;
  let size = 0;
  try {
    const cp = parseCheckpointNote(note);
    size = cp.size;
    check = await checkV2Checkpoint(cp);
  } catch (err) {
    check = { ok: false, detail: (err as Error).message };
  }
  return h(
    'section',
    {},
    h('h2', {}, 'Rekor v2'),
    fields([['Checkpoint signature', status('v2-checkpoint', check.ok, check.detail)]]),
    pre(note),
    v2Latest(size),
  );
}

// ── Routing ─────────────────────────────────────────────────────────────────────────────────────────────────────

function route(): void {
  const [path, qs] = location.hash.replace(/^#\/?/, '').split('?', 2);
  const parts = path.split('/').map(decodeURIComponent);
  const params = new URLSearchParams(qs ?? '');
  if (parts[0] === 'entry' && parts[1])
    void entryView(() => api.entryByUuid(parts[1]), parts[1].slice(0, 12));
  else if (parts[0] === 'index' && /^[0-9]+$/.test(parts[1] ?? ''))
    void entryView(() => api.entryByIndex(Number(parts[1])), parts[1]);
  else if (parts[0] === 'search') void searchView(params);
  else if (parts[0] === 'log') void logView();
  else if (parts[0] === 'v2' && /^[0-9]+$/.test(parts[1] ?? '')) void v2EntryView(Number(parts[1]));
  else if (parts[0] === 'ct') void ctView();
  else if (parts[0] === 'registry' && parts[1]) void repositoryView(parts[1]);
  else if (parts[0] === 'registry') void registryView();
  else void home();
}

window.addEventListener('hashchange', route);
route();
