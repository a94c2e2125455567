// A Bloom filter over the identities merged into the SQLite index tables, so that dedup knows a new identity (nearly
// every append) is absent without a B-tree lookup: at a million entries that lookup reads a cold leaf page after
// every batch commit (another connection's commit empties the reading connection's page cache in WAL mode) and
// cost ~5-8 µs per append; a filter check costs well under one. It never answers "absent" for a key it was given
// (no false negatives), and "maybe" for about 0.3% of the keys it was not (then the table is asked).
// Keys are 64-bit hashes given as two uint32 halves; the probes are double hashing over them. The filter grows in
// layers (each twice the previous capacity, as in a scalable Bloom filter), so it never has to be rebuilt.

/** 12 bits a key and 8 probes: a false-positive rate of about 0.3% per layer at capacity. */
const BITS_PER_KEY = 12;
const PROBES = 8;
/** Largest layer: 2^31 bits (256 MiB), which keeps the probe arithmetic in 32 bits. */
const MAX_LAYER_BITS = 2 ** 31;

interface Layer {
  bits: Uint32Array;
  mask: number;
  capacity: number;
  count: number;
}

export interface KeyFilter {
  add(hi: number, lo: number): void;
  /** False only when the key was never added. */
  mightHave(hi: number, lo: number): boolean;
  /** Bytes the filter holds. */
  readonly bytes: number;
}

function layer(capacity: number): Layer {
  let size = 1024;
  while (size < capacity * BITS_PER_KEY && size < MAX_LAYER_BITS) size *= 2;
  return {
    bits: new Uint32Array(size / 32),
    mask: size - 1,
    capacity: Math.floor(size / BITS_PER_KEY),
    count: 0,
  };
}

function has(l: Layer, hi: number, lo: number): boolean {
  const step = hi | 1;
  for (let i = 0; i < PROBES; i++) {
    const bit = (lo + Math.imul(i, step)) & l.mask;
    if ((l.bits[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
  }
  return true;
}

/** A filter sized for `capacity` keys to begin with. */
export function keyFilter(capacity: number): KeyFilter {
  const layers = [layer(capacity)];
  return {
    add(hi, lo) {
      let l = layers[layers.length - 1];
      if (l.count >= l.capacity) {
        l = layer(2 * l.capacity);
        layers.push(l);
      }
      const step = hi | 1;
      for (let i = 0; i < PROBES; i++) {
        const bit = (lo + Math.imul(i, step)) & l.mask;
        l.bits[bit >>> 5] |= 1 << (bit & 31);
      }
      l.count++;
    },
    mightHave(hi, lo) {
      for (const l of layers) if (has(l, hi, lo)) return true;
      return false;
    },
    get bytes() {
      return layers.reduce((n, l) => n + l.bits.byteLength, 0);
    },
  };
}

/** The two halves of a signed 64-bit key as stored in the identities table (the first 8 bytes of its hash). */
export function keyHalves(k: bigint): [hi: number, lo: number] {
  const u = BigInt.asUintN(64, k);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}
