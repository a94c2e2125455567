// The batch commit as one flat buffer, for handing it to the SQLite writer thread (sqlite-writer.ts). Transferring
// one ArrayBuffer costs nothing per entry, where a structured clone of the batch object copies and rebuilds every
// entry's buffers (and, for a view into node's buffer pool, the whole 8 KiB slab it sits in). Layout, all
// big-endian, lengths as uint32 and indices/timestamps as float64 (exact for safe integers):
//   counts (entries, tiles) | head: size, timestamp, root (32), checkpoint (len + UTF-8)
//   entries: index, timestamp, data (len + bytes), identity (len + bytes), term keys (len + bytes)
//   tiles: level, index, data (len + bytes)
// Each entry carries its search terms as their lookup keys (sqlite.ts `termKey`), concatenated, as its row stores
// them; they are computed and grouped once, on the main thread, which needs them too.
import type { BatchWrite, StoredEntry } from '../../../log/index.js';

/** A batch as the SQLite writer takes it: each entry with its term keys, concatenated. */
export interface WireBatch extends Omit<BatchWrite, 'terms' | 'entries'> {
  entries: (StoredEntry & { termKeys: Uint8Array })[];
}

export function encodeBatch(b: WireBatch): ArrayBuffer {
  const checkpoint = Buffer.from(b.head.checkpoint, 'utf8');
  let size = 8 + 16 + 32 + 4 + checkpoint.length;
  for (const e of b.entries) size += 16 + 12 + e.data.length + e.identity.length + e.termKeys.length;
  for (const t of b.tiles) size += 4 + 8 + 4 + t.data.length;
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  const u32 = (v: number) => {
    at = out.writeUInt32BE(v, at);
  };
  const f64 = (v: number) => {
    at = out.writeDoubleBE(v, at);
  };
  const bytes = (v: Uint8Array) => {
    u32(v.length);
    out.set(v, at);
    at += v.length;
  };
  u32(b.entries.length);
  u32(b.tiles.length);
  f64(b.head.size);
  f64(b.head.timestamp);
  if (b.head.root.length !== 32) throw new Error('tree head root must be 32 bytes');
  out.set(b.head.root, at);
  at += 32;
  bytes(checkpoint);
  for (const e of b.entries) {
    f64(e.index);
    f64(e.timestamp);
    bytes(e.data);
    bytes(e.identity);
    bytes(e.termKeys);
  }
  for (const t of b.tiles) {
    u32(t.level);
    f64(t.index);
    bytes(t.data);
  }
  if (at !== size) throw new Error(`batch encoding is ${at} bytes, expected ${size}`);
  return out.buffer;
}

/** The batch back, its byte fields as views into `buffer` (no copies). */
export function decodeBatch(buffer: ArrayBuffer): WireBatch {
  const src = Buffer.from(buffer);
  let at = 0;
  const u32 = () => {
    const v = src.readUInt32BE(at);
    at += 4;
    return v;
  };
  const f64 = () => {
    const v = src.readDoubleBE(at);
    at += 8;
    return v;
  };
  const bytes = () => {
    const n = u32();
    const v = src.subarray(at, at + n);
    at += n;
    return v;
  };
  const [nEntries, nTiles] = [u32(), u32()];
  const size = f64();
  const timestamp = f64();
  const root = src.subarray(at, at + 32);
  at += 32;
  const head = { size, timestamp, root, checkpoint: bytes().toString('utf8') };
  const entries: WireBatch['entries'] = [];
  for (let i = 0; i < nEntries; i++) {
    const index = f64();
    const ts = f64();
    entries.push({ index, timestamp: ts, data: bytes(), identity: bytes(), termKeys: bytes() });
  }
  const tiles: WireBatch['tiles'] = [];
  for (let i = 0; i < nTiles; i++) {
    const level = u32();
    const index = f64();
    tiles.push({ level, index, data: bytes() });
  }
  if (at !== src.length) throw new Error('batch encoding has trailing bytes');
  return { entries, tiles, head };
}
