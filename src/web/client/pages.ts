// The explorer's views beyond the Rekor v1 log: one Rekor v2 entry (read from the v2 log's entry bundles, its
// inclusion proof assembled from hash tiles and recomputed against the v2 checkpoint, whose Ed25519 signature is
// checked under the trusted root's key), the CA's CT log (its signed tree head checked under the trusted root's CT
// key, the latest certificates with an inclusion proof each), and the OCI registry (repositories; per digest the
// tags, cosign's signature and attestation tags and the OCI referrers, each linking to its log entry, as
// `sigil tree` lists them). Everything shown comes from the services' public APIs and goes in as text.
import * as api from './api.js';
import { equal, fromBase64, pemBlock, toBase64, toHex } from './bytes.js';
import {
  type Check,
  checkCheckpointSignature,
  importLogKey,
  type LogKey,
  type ParsedCheckpoint,
  parseCheckpointNote,
} from './checks.js';
import { checkSignedTreeHead, parseLeaf, type SignedTreeHead } from './ct.js';
import { type Child, field, fields, h, pre, routeLink, status } from './dom.js';
import { type DecodedBody, decodeEntry } from './entry.js';
import { leafHash, rootFromInclusionProof } from './merkle.js';
import * as registry from './registry.js';
import { entryFromTiles, inclusionProofFromTiles, type TileReader, tilePath } from './tiles.js';
import { below, checkRow, date, errorBox, settle, show, signerSection, verdictBox } from './view.js';
import { decodeCertificate } from './x509.js';

// ── Rekor v2 ────────────────────────────────────────────────────────────────────────────────────────────────────

/** A v2 checkpoint's signature under an Ed25519 key of the trusted root. */
export async function checkV2Checkpoint(cp: ParsedCheckpoint): Promise<Check> {
  for (const k of await api.trustedLogKeys()) {
    const key = await importLogKey(k.spki).catch(() => undefined);
    if (key?.kind !== 'ed25519') continue;
    const c = await checkCheckpointSignature(cp, key);
    if (c.ok) return { ok: true, detail: `${c.detail}; key from the trusted root (${k.baseUrl})` };
  }
  return { ok: false, detail: 'no key in the trusted root verifies it' };
}

const v2Reader: TileReader = (level, n, width) => api.v2Tile(tilePath(level, n, width));

export async function v2EntryView(index: number): Promise<void> {
  const out = show(`Rekor v2 entry ${index}`, h('p', { role: 'status' }, 'Loading…'));
  let cp: ParsedCheckpoint;
  let bytes: Uint8Array;
  try {
    const note = await api.v2Checkpoint();
    if (!note) throw new Error('this stack serves no Rekor v2 log');
    cp = parseCheckpointNote(note);
    if (index >= cp.size)
      throw new Error(`the v2 log's checkpoint holds ${cp.size} entries: there is no entry ${index}`);
    bytes = await entryFromTiles(v2Reader, index, cp.size);
  } catch (err) {
    below(out, errorBox(err));
    return;
  }
  const checkpoint = cp;
  const leaf = await leafHash(bytes);
  const rows = [
    checkRow('v2-checkpoint', 'Checkpoint signed by the log (key from the trusted root)', () =>
      checkV2Checkpoint(checkpoint),
    ),
    checkRow(
      'inclusion',
      'Inclusion in that checkpoint (proof read from tiles, root recomputed here)',
      async () => {
        const proof = await inclusionProofFromTiles(v2Reader, index, checkpoint.size);
        const root = await rootFromInclusionProof(index, checkpoint.size, leaf, proof);
        if (!root) return { ok: false, detail: 'the proof has the wrong shape for its index and tree size' };
        return equal(root, checkpoint.rootHash)
          ? { ok: true, detail: `leaf ${toHex(leaf)} leads to the checkpoint's root ${toHex(root)}` }
          : {
              ok: false,
              detail: `the tiles lead to root ${toHex(root)}, not the checkpoint's ${toHex(checkpoint.rootHash)}`,
            };
      },
    ),
  ];
  let decoded: DecodedBody | undefined;
  let decodeError = '';
  try {
    decoded = decodeEntry(bytes);
  } catch (err) {
    decodeError = (err as Error).message;
  }
  const verdict = verdictBox();
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
        ['Log index', String(index)],
        ['Leaf hash', toHex(leaf)],
        ['Checkpoint', `${checkpoint.origin}, size ${checkpoint.size}`],
        ['Kind', decoded ? `${decoded.kind} ${decoded.apiVersion}` : `undecodable entry: ${decodeError}`],
        ...((decoded?.summary ?? []) as [string, string][]),
      ]),
    ),
    signerSection(decoded?.keys, 'No key or certificate found in the entry.'),
    h(
      'section',
      { 'aria-labelledby': 'body-title' },
      h('h2', { id: 'body-title' }, 'Entry'),
      pre(decoded ? JSON.stringify(decoded.json, null, 2) : new TextDecoder().decode(bytes)),
    ),
  );
  await settle(rows, verdict);
}

/** Links to the v2 log's latest entries, for the log page. */
export function v2Latest(size: number): HTMLElement {
  const from = Math.max(0, size - 10);
  const indexes = Array.from({ length: size - from }, (_, i) => size - 1 - i);
  return indexes.length
    ? h(
        'p',
        {},
        'Latest entries: ',
        ...indexes.flatMap((i, k) => [k ? ', ' : '', routeLink(String(i), 'v2', String(i))]),
      )
    : h('p', {}, 'The v2 log is empty.');
}

// ── The CT log ──────────────────────────────────────────────────────────────────────────────────────────────────

const CT_SHOWN = 20;

async function ctKeys(): Promise<LogKey[]> {
  const keys: LogKey[] = [];
  for (const k of await api.trustedCtKeys()) {
    const key = await importLogKey(k.spki).catch(() => undefined);
    if (key) keys.push(key);
  }
  return keys;
}

/** leaf_input of entries [start, end): get-entries pages until all are in (§4.6: a log may answer fewer). */
async function ctLeaves(start: number, end: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  while (start + out.length < end) {
    const got = await api.ctEntries(start + out.length, end - 1);
    if (got.length === 0) throw new Error(`get-entries from ${start + out.length} answered nothing`);
    out.push(...got.slice(0, end - start - out.length).map(fromBase64));
  }
  return out;
}

async function ctInclusion(leafInput: Uint8Array, index: number, sth: SignedTreeHead): Promise<Check> {
  const leaf = await leafHash(leafInput);
  const proof = await api.ctProof(toBase64(leaf), sth.tree_size);
  if (proof.index !== index) return { ok: false, detail: `the log puts this leaf at index ${proof.index}` };
  const root = await rootFromInclusionProof(index, sth.tree_size, leaf, proof.path.map(fromBase64));
  if (!root) return { ok: false, detail: 'the proof has the wrong shape' };
  return equal(root, fromBase64(sth.sha256_root_hash))
    ? { ok: true, detail: `in the tree head of size ${sth.tree_size}` }
    : { ok: false, detail: `the proof leads to ${toHex(root)}, not the tree head's root` };
}

function ctRow(
  leafInput: Uint8Array,
  index: number,
  sth: SignedTreeHead,
  checks: Promise<boolean>[],
): HTMLElement {
  let cells: Child[];
  try {
    const leaf = parseLeaf(leafInput);
    const c = decodeCertificate(leaf.certificate);
    cells = [
      date(new Date(leaf.timestamp)),
      leaf.type,
      h('ul', { class: 'san' }, ...c.subjectAltNames.map((s) => h('li', {}, `${s.type}: ${s.value}`))),
      c.oidcIssuer ?? '',
      `${date(c.notBefore)} – ${date(c.notAfter)}`,
    ];
  } catch (err) {
    cells = ['', '', `(unreadable leaf: ${(err as Error).message})`, '', ''];
  }
  const cell = h('td', {}, status(`ct-inclusion-${index}`, undefined, ''));
  checks.push(
    ctInclusion(leafInput, index, sth)
      .catch((err): Check => ({ ok: false, detail: (err as Error).message }))
      .then((c) => {
        cell.replaceChildren(status(`ct-inclusion-${index}`, c.ok, c.detail));
        return c.ok;
      }),
  );
  return h('tr', {}, h('td', {}, String(index)), ...cells.map((x) => h('td', {}, x)), cell);
}

export async function ctView(): Promise<void> {
  const out = show('Certificate transparency log', h('p', { role: 'status' }, 'Loading…'));
  try {
    const sth = (await api.ctSth()) as SignedTreeHead;
    const signature = await checkSignedTreeHead(sth, await ctKeys());
    const from = Math.max(0, sth.tree_size - CT_SHOWN);
    const leaves = await ctLeaves(from, sth.tree_size);
    const checks: Promise<boolean>[] = [];
    const rows = leaves.map((l, i) => ctRow(l, from + i, sth, checks)).reverse();
    below(
      out,
      h(
        'p',
        {},
        'Every certificate the CA issued is logged here (as a precertificate) before it is handed out.',
      ),
      fields([
        ['Tree size', String(sth.tree_size)],
        ['Root hash', sth.sha256_root_hash],
        ['Signed at', date(new Date(sth.timestamp))],
        ['Tree head signature', status('ct-sth', signature.ok, signature.detail)],
      ]),
      h('h2', {}, 'Latest certificates'),
      rows.length
        ? h(
            'table',
            { class: 'entries', id: 'ct-entries' },
            h('caption', {}, `The last ${rows.length} certificates`),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['Index', 'Logged', 'Entry', 'Identity', 'OIDC issuer', 'Validity', 'Inclusion'].map((t) =>
                  h('th', { scope: 'col' }, t),
                ),
              ),
            ),
            h('tbody', {}, ...rows),
          )
        : h('p', {}, 'The CT log is empty.'),
    );
    await Promise.all(checks);
  } catch (err) {
    out.append(errorBox(err));
  }
}

// ── The registry ────────────────────────────────────────────────────────────────────────────────────────────────

/** The credentials form shown when the registry wants them; submitting retries `retry`. */
function loginForm(retry: () => void): HTMLElement {
  const f = h(
    'form',
    { id: 'registry-login', class: 'search', 'aria-labelledby': 'registry-login-legend' },
    h('h2', { id: 'registry-login-legend' }, 'Registry credentials'),
    h(
      'p',
      {},
      'The registry does not allow anonymous reads. Its credentials are in the data dir’s registry-auth.json.',
    ),
    field('registry-user', 'Username', { required: '', autocomplete: 'username' }),
    field('registry-password', 'Password', {
      required: '',
      type: 'password',
      autocomplete: 'current-password',
    }),
    h('button', { type: 'submit' }, 'Sign in'),
  ) as HTMLFormElement;
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const d = new FormData(f);
    registry.setCredentials(String(d.get('registry-user') ?? ''), String(d.get('registry-password') ?? ''));
    retry();
  });
  return f;
}

/** A registry view body, or the login form when the registry refused it. */
async function withRegistry(
  out: HTMLElement,
  build: () => Promise<Child[]>,
  retry: () => void,
): Promise<void> {
  try {
    below(out, ...(await build()));
  } catch (err) {
    if (err instanceof registry.RegistryError && (err.status === 401 || err.status === 403))
      below(out, errorBox(err), loginForm(retry));
    else below(out, errorBox(err));
  }
}

export async function registryView(): Promise<void> {
  const out = show('Registry', h('p', { role: 'status' }, 'Loading…'));
  await withRegistry(
    out,
    async () => {
      const repos = await registry.catalog();
      return repos.length
        ? [
            h(
              'p',
              { role: 'status', id: 'result-count' },
              `${repos.length} repositor${repos.length === 1 ? 'y' : 'ies'}.`,
            ),
            h('ul', { class: 'repositories' }, ...repos.map((r) => h('li', {}, routeLink(r, 'registry', r)))),
          ]
        : [h('p', {}, 'The registry holds no repository.')];
    },
    () => void registryView(),
  );
}

/** cosign's tag for what it attaches to `digest`: sha256-<hex>.sig, .att or .sbom. */
const cosignTag = (digest: string, kind: string) => `${digest.replace(':', '-')}.${kind}`;
const isCosignTag = (tag: string) => /^sha256-[0-9a-f]{64}\.(sig|att|sbom)$/.test(tag);

function logLink(p: registry.LogPointer | undefined): Child {
  if (!p) return '(no log entry recorded)';
  return p.log === 'v1'
    ? routeLink(`Rekor v1 entry ${p.index}`, 'index', String(p.index))
    : routeLink(`Rekor v2 entry ${p.index}`, 'v2', String(p.index));
}

/** The identity of a PEM certificate in a cosign annotation, for the signature list. */
function certificateIdentity(pem: string | undefined): string {
  const der = pem ? pemBlock(pem, 'CERTIFICATE') : undefined;
  if (!der) return '';
  try {
    const c = decodeCertificate(der);
    return `${c.subjectAltNames.map((s) => s.value).join(', ')}${c.oidcIssuer ? ` (${c.oidcIssuer})` : ''}`;
  } catch {
    return '(unreadable certificate)';
  }
}

/** The layers of cosign's .sig or .att tag for `digest`, each with its identity and log entry. */
async function cosignLayers(name: string, digest: string, kind: 'sig' | 'att'): Promise<HTMLElement[]> {
  const m = await registry.manifestIfAny(name, cosignTag(digest, kind));
  return (m?.layers ?? []).map((l) => {
    const a = l.annotations ?? {};
    return h(
      'li',
      { class: 'attached' },
      h('code', {}, l.digest),
      a.predicateType ? ` predicate ${a.predicateType}` : '',
      ' ',
      certificateIdentity(a['dev.sigstore.cosign/certificate']),
      ' — ',
      logLink(registry.pointerFromCosignBundle(a['dev.sigstore.cosign/bundle'])),
    );
  });
}

async function referrerItems(name: string, digest: string): Promise<HTMLElement[]> {
  const out: HTMLElement[] = [];
  for (const d of await registry.referrers(name, digest)) {
    const m = await registry.manifest(name, d.digest);
    const type =
      m.annotations?.['dev.sigstore.bundle.predicateType'] ?? d.artifactType ?? m.artifactType ?? '';
    const layer = m.layers?.[0];
    const pointer = layer
      ? registry.pointerFromSigstoreBundle(await registry.blobText(name, layer.digest))
      : undefined;
    out.push(h('li', { class: 'referrer' }, h('code', {}, d.digest), ` ${type} — `, logLink(pointer)));
  }
  return out;
}

async function digestSection(name: string, digest: string, tagNames: string[]): Promise<HTMLElement> {
  const [sigs, atts, refs] = await Promise.all([
    cosignLayers(name, digest, 'sig'),
    cosignLayers(name, digest, 'att'),
    referrerItems(name, digest),
  ]);
  const list = (items: HTMLElement[], none: string) => (items.length ? h('ul', {}, ...items) : none);
  return h(
    'section',
    { class: 'digest' },
    h('h2', {}, h('code', {}, digest)),
    fields([
      ['Tags', tagNames.length ? tagNames.join(', ') : '(untagged)'],
      ['Signatures (cosign .sig tag)', list(sigs, '(none)')],
      ['Attestations (cosign .att tag)', list(atts, '(none)')],
      ['OCI referrers', list(refs, '(none)')],
    ]),
  );
}

export async function repositoryView(name: string): Promise<void> {
  const out = show(`Repository ${name}`, h('p', { role: 'status' }, 'Loading…'));
  await withRegistry(
    out,
    async () => {
      const all = await registry.tags(name);
      // Group the image tags by the digest they name; cosign's own tags are shown under their subject.
      const byDigest = new Map<string, string[]>();
      for (const tag of all.filter((t) => !isCosignTag(t))) {
        const m = await registry.manifest(name, tag);
        byDigest.set(m.digest, [...(byDigest.get(m.digest) ?? []), tag]);
      }
      // A digest signed but no longer tagged still shows, from its cosign tags.
      for (const tag of all.filter(isCosignTag)) {
        const digest = tag.slice(0, 71).replace('-', ':');
        if (!byDigest.has(digest)) byDigest.set(digest, []);
      }
      const sections = await Promise.all(
        [...byDigest].map(([digest, tags]) => digestSection(name, digest, tags)),
      );
      return [
        h(
          'p',
          { role: 'status', id: 'result-count' },
          `${byDigest.size} digest${byDigest.size === 1 ? '' : 's'}.`,
        ),
        ...sections,
      ];
    },
    () => void repositoryView(name),
  );
}
