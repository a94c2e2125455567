// The dedup filter over merged identities must never call a key it was given absent (that would let a duplicate
// into the log), also once it has grown into further layers; and it must call nearly every other key absent,
// or it saves no lookups.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyFilter, keyHalves } from '../../src/storage/sqlite/log/key-filter.js';

const halves = (b: Buffer): [number, number] => [b.readUInt32BE(0), b.readUInt32BE(4)];

describe('identity key filter', () => {
  it('knows every key it was given, across layers, and few others', () => {
    const filter = keyFilter(10_000);
    const added = Array.from({ length: 70_000 }, () => halves(randomBytes(8)));
    for (const [hi, lo] of added) filter.add(hi, lo);
    // 70,000 keys in a filter made for 10,000: it has grown (10k, 20k, 40k: three layers at least).
    expect(filter.bytes).toBeGreaterThan(3 * 15_000);
    for (const [hi, lo] of added) expect(filter.mightHave(hi, lo)).toBe(true);
    let maybe = 0;
    const others = 100_000;
    for (let i = 0; i < others; i++) {
      const [hi, lo] = halves(randomBytes(8));
      if (filter.mightHave(hi, lo)) maybe++;
    }
    // About 0.3% per layer at capacity; the bound leaves room for chance, not for a broken probe sequence.
    expect(maybe / others).toBeLessThan(0.02);
  });

  it('calls everything absent while empty', () => {
    const filter = keyFilter(1000);
    for (let i = 0; i < 1000; i++) expect(filter.mightHave(...halves(randomBytes(8)))).toBe(false);
  });

  it('splits a stored signed key into the same halves as the hash bytes it came from', () => {
    for (let i = 0; i < 1000; i++) {
      const b = randomBytes(8);
      expect(keyHalves(b.readBigInt64BE(0))).toEqual(halves(b));
    }
  });
});
