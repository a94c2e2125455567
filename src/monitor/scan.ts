// The monitor's work on one entry bundle, the same in the main thread and in a scan worker: fetch it, split it into
// its entries (C2SP tlog-tiles), hash each as an RFC 6962 leaf (the caller appends the hashes to the tree's edge,
// which proves the checkpoint commits to them), and find the entries whose certificate names the watched identity
// (certificates without the rule's bytes are not parsed: entries.ts says why that is sound).
import { TILE_WIDTH } from '../formats/index.js';
import { leafHash } from '../merkle/index.js';
import { request } from '../net/index.js';
import {
  entryIdentities,
  type IdentityRule,
  matchIdentity,
  type Prefilter,
  splitEntryBundle,
} from './entries.js';

export interface Match {
  index: number;
  identity: string;
  issuer?: string;
  /** Hex leaf hash: the Rekor v1 entry UUID. */
  leafHash: string;
}

export interface BundleScan {
  /** How many entries the bundle holds (all of them, also those skipped). */
  entries: number;
  /** The leaf hashes of the entries from `skip` on, 32 bytes each, in order. */
  leaves: Buffer;
  matches: Match[];
}

/** Scans entry bundle `n` from its entry `skip` (those before were scanned in an earlier pass). */
export function scanBundle(
  bundle: Uint8Array,
  n: number,
  skip: number,
  rule: IdentityRule,
  prefilter: Prefilter,
): BundleScan {
  const entries = splitEntryBundle(bundle);
  const leaves = Buffer.allocUnsafe(32 * Math.max(0, entries.length - skip));
  const matches: Match[] = [];
  for (let i = skip; i < entries.length; i++) {
    const leaf = leafHash(entries[i]);
    leaf.copy(leaves, 32 * (i - skip));
    for (const id of entryIdentities(entries[i], prefilter)) {
      const san = matchIdentity(id, rule);
      if (san)
        matches.push({
          index: n * TILE_WIDTH + i,
          identity: san,
          issuer: id.issuer,
          leafHash: leaf.toString('hex'),
        });
    }
  }
  return { entries: entries.length, leaves, matches };
}

/** GET `url`'s body; anything but 200 is an error. */
export async function get(url: string): Promise<Buffer> {
  const res = await request(url, { timeoutMs: 60_000 });
  if (res.status !== 200) {
    res.discard();
    throw new Error(`GET ${url}: HTTP ${res.status}`);
  }
  return res.buffer();
}

/** Fetches entry bundle `n` from `url` and scans it from entry `skip`. */
export async function fetchAndScan(
  url: string,
  n: number,
  skip: number,
  rule: IdentityRule,
  prefilter: Prefilter,
): Promise<BundleScan> {
  return scanBundle(await get(url), n, skip, rule, prefilter);
}
