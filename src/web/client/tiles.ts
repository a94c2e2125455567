// Reading a C2SP tlog-tiles log from the browser (sigil's Rekor v2 log under /api/v2): tile paths, entry bundles
// split into entries, and an entry's RFC 6962 inclusion proof assembled from the hash tiles. The log serves no
// proof endpoint for v2; the proof's hashes are read from tiles (unauthenticated) and the page recomputes the
// root from them and the entry, which must equal the root of the checkpoint whose signature it checked.
import { nodeHash } from './merkle.js';

/** C2SP tlog-tiles: 256 hashes (or entries) a tile; a tile at level L holds the nodes of tree level 8·L. */
export const TILE_WIDTH = 256;
const TILE_HEIGHT = 8;
const HASH_SIZE = 32;

/** A tile index as path elements of three digits, all but the last prefixed with "x" (e.g. x001/x234/067). */
export function tileIndexPath(index: number): string {
  let digits = String(index);
  digits = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups = digits.match(/.{3}/g) ?? ['000'];
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`: partial tiles carry their width. */
export function tilePath(level: number | 'entries', index: number, width: number): string {
  return `tile/${level}/${tileIndexPath(index)}${width < TILE_WIDTH ? `.p/${width}` : ''}`;
}

/** An entry bundle's entries: each a big-endian uint16 length, then that many bytes. */
export function splitEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length) throw new Error('the entry bundle ends inside a length');
    const len = (bundle[at] << 8) | bundle[at + 1];
    if (at + 2 + len > bundle.length) throw new Error('the entry bundle ends inside an entry');
    out.push(bundle.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}

/** Fetches one tile: hashes for a level, entries for 'entries'. */
export type TileReader = (level: number | 'entries', index: number, width: number) => Promise<Uint8Array>;

/** How wide tile `index` at `level` is in a tree of `size` (full, or the partial last one). */
function tileWidth(size: number, level: number, index: number): number {
  const nodes = Math.floor(size / 2 ** (TILE_HEIGHT * level));
  return Math.min(TILE_WIDTH, nodes - index * TILE_WIDTH);
}

/** Entry `index` of a tree of `size`, from its entry bundle. */
export async function entryFromTiles(read: TileReader, index: number, size: number): Promise<Uint8Array> {
  const n = Math.floor(index / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
  const entries = splitEntryBundle(await read('entries', n, width));
  if (entries.length !== width)
    throw new Error(`entry bundle ${n} holds ${entries.length} entries, not ${width}`);
  return entries[index % TILE_WIDTH];
}

const largestPowerOfTwoBelow = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
// Plain arithmetic, no 32-bit bitwise operators: sizes go past 2^31. log2 of a power of two is exact.
const isPowerOfTwo = (n: number) => n >= 1 && 2 ** Math.round(Math.log2(n)) === n;

/**
 * The inclusion proof of leaf `index` in the tree of `size` (RFC 6962 §2.1.1 PATH, leaf first), with every
 * subtree hash it needs read from the hash tiles of that tree.
 */
export async function inclusionProofFromTiles(
  read: TileReader,
  index: number,
  size: number,
): Promise<Uint8Array[]> {
  const tiles = new Map<string, Promise<Uint8Array>>();
  const tile = (level: number, n: number) => {
    const width = tileWidth(size, level, n);
    const key = `${level}/${n}/${width}`;
    let t = tiles.get(key);
    if (!t) {
      t = read(level, n, width).then((bytes) => {
        if (bytes.length !== width * HASH_SIZE)
          throw new Error(`hash tile ${level}/${n} holds ${bytes.length} bytes, not ${width * HASH_SIZE}`);
        return bytes;
      });
      tiles.set(key, t);
    }
    return t;
  };
  // A complete subtree [start, start + 2^height): 2^(height mod 8) nodes of one tile, hashed up.
  const perfect = async (start: number, height: number): Promise<Uint8Array> => {
    const level = Math.floor(height / TILE_HEIGHT);
    const count = 2 ** (height % TILE_HEIGHT);
    const first = start / 2 ** (TILE_HEIGHT * level);
    const bytes = await tile(level, Math.floor(first / TILE_WIDTH));
    const at = first % TILE_WIDTH;
    let row: Uint8Array[] = [];
    for (let i = 0; i < count; i++) row.push(bytes.slice((at + i) * HASH_SIZE, (at + i + 1) * HASH_SIZE));
    while (row.length > 1) {
      const up: Uint8Array[] = [];
      for (let i = 0; i < row.length; i += 2) up.push(await nodeHash(row[i], row[i + 1]));
      row = up;
    }
    return row[0];
  };
  // MTH(D[start:end]) (§2.1): complete subtrees from tiles, the ragged right edge split as the RFC splits it.
  const subtree = async (start: number, end: number): Promise<Uint8Array> => {
    const n = end - start;
    if (isPowerOfTwo(n)) return perfect(start, Math.log2(n));
    const k = largestPowerOfTwoBelow(n);
    return nodeHash(await subtree(start, start + k), await subtree(start + k, end));
  };
  const path = async (m: number, start: number, n: number): Promise<Uint8Array[]> => {
    if (n <= 1) return [];
    const k = largestPowerOfTwoBelow(n);
    return m < k
      ? [...(await path(m, start, k)), await subtree(start + k, start + n)]
      : [...(await path(m - k, start + k, n - k)), await subtree(start, start + k)];
  };
  if (!Number.isSafeInteger(index) || index < 0 || index >= size)
    throw new Error(`index ${index} is not in a tree of ${size}`);
  return path(index, 0, size);
}
