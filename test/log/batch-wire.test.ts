// The writer thread's batch encoding: every field survives the round trip, including empty and multi-byte values,
// and a damaged buffer is refused rather than half-read.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, type WireBatch } from '../../src/storage/sqlite/log/batch-wire.js';

const batch = (): WireBatch => ({
  entries: [
    {
      index: 41,
      timestamp: 1_764_000_000_123,
      data: randomBytes(700),
      identity: randomBytes(32),
      termKeys: randomBytes(48),
    },
    {
      index: 42,
      timestamp: 1_764_000_000_123,
      data: Buffer.alloc(0),
      identity: randomBytes(8),
      termKeys: Buffer.alloc(0),
    },
    {
      index: 2 ** 40 + 7,
      timestamp: 1,
      data: Buffer.from('{"é":"✓"}'),
      identity: randomBytes(32),
      termKeys: randomBytes(16),
    },
  ],
  tiles: [
    { level: 0, index: 0, data: randomBytes(32 * 256) },
    { level: 3, index: 2 ** 33, data: randomBytes(32) },
  ],
  head: {
    size: 43,
    root: randomBytes(32),
    timestamp: 1_764_000_000_123,
    checkpoint: 'origin\n43\nAAAA\n\n— sig\n',
  },
});

describe('batch wire format', () => {
  it('round-trips every field', () => {
    const b = batch();
    expect(decodeBatch(encodeBatch(b))).toEqual(b);
    const empty: WireBatch = { entries: [], tiles: [], head: { ...b.head, checkpoint: '' } };
    expect(decodeBatch(encodeBatch(empty))).toEqual(empty);
  });

  it('refuses a truncated or padded buffer and a malformed root', () => {
    const enc = Buffer.from(encodeBatch(batch()));
    const copy = (buf: Buffer) => Uint8Array.from(buf).buffer;
    expect(() => decodeBatch(copy(enc.subarray(0, enc.length - 1)))).toThrow();
    expect(() => decodeBatch(copy(Buffer.concat([enc, Buffer.from([0])])))).toThrow(/trailing/);
    expect(() => encodeBatch({ ...batch(), head: { ...batch().head, root: Buffer.alloc(31) } })).toThrow(
      /32 bytes/,
    );
  });
});
