// One pass of the identity monitor over a log that serves C2SP tlog-tiles (sigil's Rekor v1 log under /tlog, its
// Rekor v2 log under /api/v2, or any rekor-tiles shard): fetch the checkpoint and verify its signature (verify/),
// read every entry since the saved state from entry bundles (256 entries a request, several requests in flight),
// append their leaf hashes to the saved right edge of the tree and require the checkpoint's root — so the new
// checkpoint is proven consistent with the old one and the entries read are exactly those it commits to — then
// report the entries whose certificate names a watched identity, and save the new state.

import { TILE_WIDTH, tilePath } from '../formats/index.js';
import { leafHash } from '../merkle/index.js';
import { request } from '../net/index.js';
import { type TrustMaterial, verifyCheckpointNote } from '../verify/index.js';
import { entryIdentities, type IdentityRule, matchIdentity, splitEntryBundle } from './entries.js';
import { edgeOf, type MonitorState } from './state.js';

export interface Match {
  index: number;
  identity: string;
  issuer?: string;
  /** Hex leaf hash: the Rekor v1 entry UUID. */
  leafHash: string;
}

export interface PassResult {
  origin: string;
  /** Sizes before and after this pass. */
  from: number;
  to: number;
  entriesScanned: number;
  bundlesFetched: number;
  matches: Match[];
  state: MonitorState;
}

/** The log has shown two views that cannot both be true, or served something its checkpoint does not commit to. */
export class SplitViewError extends Error {}

export interface PassOptions {
  /** The tiles prefix: `<logUrl>/checkpoint`, `<logUrl>/tile/…`. */
  logUrl: string;
  /** The trust material that holds the log's key, given the checkpoint's origin (the v2 key ID depends on it). */
  trust: (origin: string) => TrustMaterial;
  rule: IdentityRule;
  state?: MonitorState;
  /** Entry bundles requested at once. */
  concurrency?: number;
}

async function get(url: string): Promise<Buffer> {
  const res = await request(url, { timeoutMs: 60_000 });
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.buffer();
}

/** Entry bundle `n` as wide as the tree of `size` has it (partial for the last one). */
function bundleUrl(logUrl: string, n: number, size: number): string {
  const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
  return `${logUrl}/${tilePath({ level: 'entries', index: n, width })}`.replace(
    'tile/entries/',
    'tile/entries/',
  );
}

/** The origin line of a checkpoint, before its signature is checked (only to pick the key). */
const originOf = (note: string) => note.slice(0, Math.max(0, note.indexOf('\n')));

export async function monitorPass(o: PassOptions): Promise<PassResult> {
  const note = (await get(`${o.logUrl}/checkpoint`)).toString('utf8');
  // The signature first: nothing the log says counts before it.
  const cp = verifyCheckpointNote(note, o.trust(originOf(note)));
  const old = o.state;
  if (old && old.origin !== cp.origin)
    throw new Error(`the state is for log "${old.origin}", this checkpoint is from "${cp.origin}"`);
  if (old && cp.treeSize < old.size)
    throw new SplitViewError(
      `the log's checkpoint (size ${cp.treeSize}) is smaller than the one verified before (size ${old.size})`,
    );
  if (old && cp.treeSize === old.size) {
    if (cp.rootHash.toString('base64') !== old.rootHash)
      throw new SplitViewError(`the log signed two different roots for tree size ${old.size}`);
    return {
      origin: cp.origin,
      from: old.size,
      to: old.size,
      entriesScanned: 0,
      bundlesFetched: 0,
      matches: [],
      state: old,
    };
  }
  const edge = edgeOf(old);
  const from = edge.size;
  const matches: Match[] = [];
  const first = Math.floor(from / TILE_WIDTH);
  const last = Math.ceil(cp.treeSize / TILE_WIDTH);
  const concurrency = o.concurrency ?? 8;
  // Bundles are fetched ahead (up to `concurrency` at once) but consumed strictly in order.
  const inFlight = new Map<number, Promise<Buffer>>();
  const fetchAhead = (n: number) => {
    for (let k = n; k < Math.min(last, n + concurrency); k++)
      if (!inFlight.has(k)) inFlight.set(k, get(bundleUrl(o.logUrl, k, cp.treeSize)));
  };
  let scanned = 0;
  for (let n = first; n < last; n++) {
    fetchAhead(n);
    const bundle = await (inFlight.get(n) as Promise<Buffer>);
    inFlight.delete(n);
    const entries = splitEntryBundle(bundle);
    const expected = Math.min(TILE_WIDTH, cp.treeSize - n * TILE_WIDTH);
    if (entries.length !== expected)
      throw new SplitViewError(
        `entry bundle ${n} holds ${entries.length} entries, the checkpoint says ${expected}`,
      );
    for (let i = Math.max(0, from - n * TILE_WIDTH); i < entries.length; i++) {
      const index = n * TILE_WIDTH + i;
      const leaf = leafHash(entries[i]);
      edge.append(leaf);
      scanned++;
      for (const id of entryIdentities(entries[i])) {
        const san = matchIdentity(id, o.rule);
        if (san) matches.push({ index, identity: san, issuer: id.issuer, leafHash: leaf.toString('hex') });
      }
    }
  }
  if (!edge.root().equals(cp.rootHash))
    throw new SplitViewError(
      old
        ? `the log is not consistent: tree ${old.size} (verified before) extended by the entries it serves does not give the root of its checkpoint for size ${cp.treeSize}`
        : `the entries the log serves do not give the root of its checkpoint for size ${cp.treeSize}`,
    );
  const state: MonitorState = {
    logUrl: o.logUrl,
    origin: cp.origin,
    size: cp.treeSize,
    rootHash: cp.rootHash.toString('base64'),
    checkpoint: note,
    edge: edge.subtrees().map((h) => h.toString('hex')),
  };
  return {
    origin: cp.origin,
    from,
    to: cp.treeSize,
    entriesScanned: scanned,
    bundlesFetched: last - first,
    matches,
    state,
  };
}
