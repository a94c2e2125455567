// One pass of the identity monitor over a log that serves C2SP tlog-tiles (sigil's Rekor v1 log under /tlog, its
// Rekor v2 log under /api/v2, or any rekor-tiles shard): fetch the checkpoint and verify its signature (verify/),
// read every entry since the saved state from entry bundles (256 entries a request, several requests in flight),
// append their leaf hashes to the saved right edge of the tree and require the checkpoint's root — so the new
// checkpoint is proven consistent with the old one and the entries read are exactly those it commits to — then
// report the entries whose certificate names a watched identity, and save the new state.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { TILE_WIDTH, tilePath } from '../formats/index.js';
import { type TrustMaterial, verifyCheckpointNote } from '../verify/index.js';
import { callsOver, startWorker } from '../workers/index.js';
import { type IdentityRule, prefilterFor } from './entries.js';
import { type BundleScan, fetchAndScan, get, type Match } from './scan.js';
import { edgeOf, type MonitorState } from './state.js';

export type { Match } from './scan.js';

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

/**
 * What a verified head (a checkpoint, or a CT log's signed tree head) must be against the state saved from the last
 * one: the same log, no smaller, and at the same size the same root (a different one is a split view). Returns the
 * pass's result when nothing was added, so there is nothing to scan.
 */
export function checkAgainstState(
  old: MonitorState | undefined,
  origin: string,
  size: number,
  rootB64: string,
  what: 'checkpoint' | 'tree head',
): PassResult | undefined {
  if (!old) return undefined;
  if (old.origin !== origin)
    throw new Error(`the state is for log "${old.origin}", this ${what} is from "${origin}"`);
  if (size < old.size)
    throw new SplitViewError(
      `the log's ${what} (size ${size}) is smaller than the one verified before (size ${old.size})`,
    );
  if (size > old.size) return undefined;
  if (rootB64 !== old.rootHash)
    throw new SplitViewError(`the log signed two different roots for tree size ${old.size}`);
  return {
    origin,
    from: old.size,
    to: old.size,
    entriesScanned: 0,
    bundlesFetched: 0,
    matches: [],
    state: old,
  };
}

export interface PassOptions {
  /** The tiles prefix: `<logUrl>/checkpoint`, `<logUrl>/tile/…`. */
  logUrl: string;
  /** The trust material that holds the log's key, given the checkpoint's origin (the v2 key ID depends on it). */
  trust: (origin: string) => TrustMaterial;
  rule: IdentityRule;
  state?: MonitorState;
  /** Entry bundles requested at once. */
  concurrency?: number;
  /**
   * Scan workers: 0 scans in the main thread; unset starts one per core (at most 4) when at least
   * THREADED_BUNDLES bundles are to be read, as starting a thread costs more than a short catch-up.
   */
  threads?: number;
}

/** From this many entry bundles on (about 8,000 entries) a pass scans in worker threads by default. */
const THREADED_BUNDLES = 32;

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
  const unchanged = checkAgainstState(
    old,
    cp.origin,
    cp.treeSize,
    cp.rootHash.toString('base64'),
    'checkpoint',
  );
  if (unchanged) return unchanged;
  const edge = edgeOf(old);
  const from = edge.size;
  const matches: Match[] = [];
  const first = Math.floor(from / TILE_WIDTH);
  const last = Math.ceil(cp.treeSize / TILE_WIDTH);
  const threads = o.threads ?? (last - first >= THREADED_BUNDLES ? Math.min(4, availableParallelism()) : 0);
  const scanner = threads > 0 ? workerScanner(threads, o.rule) : inlineScanner(o.rule);
  // Bundles are fetched and scanned ahead (up to `concurrency` at once) but their leaves are appended in order.
  const concurrency = Math.max(o.concurrency ?? 8, 2 * threads);
  const inFlight = new Map<number, Promise<BundleScan>>();
  const fetchAhead = (n: number) => {
    for (let k = n; k < Math.min(last, n + concurrency); k++)
      if (!inFlight.has(k)) {
        const skip = Math.max(0, from - k * TILE_WIDTH);
        const scan = scanner.scan(bundleUrl(o.logUrl, k, cp.treeSize), k, skip);
        // Awaited in order below; a failure before its turn must not count as unhandled meanwhile.
        scan.catch(() => {});
        inFlight.set(k, scan);
      }
  };
  let scanned = 0;
  try {
    for (let n = first; n < last; n++) {
      fetchAhead(n);
      const scan = await (inFlight.get(n) as Promise<BundleScan>);
      inFlight.delete(n);
      const expected = Math.min(TILE_WIDTH, cp.treeSize - n * TILE_WIDTH);
      if (scan.entries !== expected)
        throw new SplitViewError(
          `entry bundle ${n} holds ${scan.entries} entries, the checkpoint says ${expected}`,
        );
      for (let at = 0; at < scan.leaves.length; at += 32) edge.append(scan.leaves.subarray(at, at + 32));
      scanned += scan.leaves.length / 32;
      matches.push(...scan.matches);
    }
  } finally {
    await scanner.close();
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

interface Scanner {
  scan(url: string, n: number, skip: number): Promise<BundleScan>;
  close(): Promise<void>;
}

function inlineScanner(rule: IdentityRule): Scanner {
  const prefilter = prefilterFor(rule);
  return {
    scan: (url, n, skip) => fetchAndScan(url, n, skip, rule, prefilter),
    close: async () => {},
  };
}

/**
 * The scan worker's module: next to this one (dist/monitor/, or the sources through tsx), or in dist/monitor/ when
 * this code runs from the CLI's bundle (dist/client/), which tsc's output sits beside.
 */
function scanWorkerUrl(): URL {
  const bundled = new URL('../monitor/scan-worker.js', import.meta.url);
  return existsSync(fileURLToPath(bundled)) ? bundled : new URL('./scan-worker.js', import.meta.url);
}

/** `count` scan workers, each fetching and scanning the bundles it is given; a bundle goes to the least busy. */
function workerScanner(count: number, rule: IdentityRule): Scanner {
  const pool = Array.from({ length: count }, () => {
    const worker: Worker = startWorker(scanWorkerUrl(), { rule });
    const calls = callsOver((m, transfer) => worker.postMessage(m, transfer));
    worker.on('message', (m) => calls.settle(m));
    worker.on('error', (err) => calls.failAll(err));
    worker.on('exit', (code) => calls.failAll(new Error(`a scan worker exited (code ${code})`)));
    return { worker, calls, owed: 0 };
  });
  return {
    async scan(url, n, skip) {
      const w = pool.reduce((a, b) => (b.owed < a.owed ? b : a));
      w.owed++;
      try {
        const r = await w.calls.call<BundleScan>({ url, n, skip });
        // Structured cloning turns the Buffer into a Uint8Array.
        return { ...r, leaves: Buffer.from(r.leaves.buffer, r.leaves.byteOffset, r.leaves.byteLength) };
      } finally {
        w.owed--;
      }
    },
    async close() {
      await Promise.all(pool.map((w) => w.worker.terminate()));
    },
  };
}
