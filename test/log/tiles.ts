// An independent checker of tile-based logs for the tests: the RFC 6962 §2.1 definitions written out by their
// recursion (not src/merkle), over leaf hashes read from the level-0 tiles and entries from the entry bundles
// (C2SP tlog-tiles: big-endian uint16 length prefixes). `base` is the prefix the log serves tile/ under.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';

export const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const node = (l: Buffer, r: Buffer) => sha256(Buffer.from([1]), l, r);
/** The largest power of two smaller than n. */
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));
export function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return node(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
export function path(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

/** Tile index N as tlog-tiles writes it: x-prefixed groups of three digits. */
export function tileIndex(n: number): string {
  const s = String(n).padStart(3 * Math.max(1, Math.ceil(String(n).length / 3)), '0');
  const groups = s.match(/.{3}/g) as string[];
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** Every leaf hash of a tree of `size`, read from the level-0 tiles. */
export async function leafHashesFromTiles(base: string, size: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let t = 0; t * 256 < size; t++) {
    const width = Math.min(256, size - t * 256);
    const suffix = width < 256 ? `.p/${width}` : '';
    const res = await fetch(`${base}/tile/0/${tileIndex(t)}${suffix}`);
    expect(res.status).toBe(200);
    const tile = Buffer.from(await res.arrayBuffer());
    expect(tile.length).toBe(width * 32);
    for (let i = 0; i < width; i++) out.push(tile.subarray(i * 32, i * 32 + 32));
  }
  return out;
}

/** The entries of the bundle holding `index` (big-endian uint16 length prefixes). */
export async function entryFromBundle(base: string, index: number, size: number): Promise<Buffer> {
  const t = Math.floor(index / 256);
  const width = Math.min(256, size - t * 256);
  const res = await fetch(`${base}/tile/entries/${tileIndex(t)}${width < 256 ? `.p/${width}` : ''}`);
  expect(res.status).toBe(200);
  const bundle = Buffer.from(await res.arrayBuffer());
  const entries: Buffer[] = [];
  for (let at = 0; at < bundle.length; ) {
    const len = bundle.readUInt16BE(at);
    entries.push(bundle.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  expect(entries.length).toBe(width);
  return entries[index % 256];
}
