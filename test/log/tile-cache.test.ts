// The log engine's cache of parsed tiles (src/log/tile-cache.ts): a tile's inner nodes are the Merkle subtree
// hashes of its slice, whether the tile was read whole or grew batch by batch, and a full cache stays a few heap
// objects per tile, so that a long-running log's garbage collections stay short.
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { TileCache } from '../../src/log/tile-cache.js';
import { nodeHash } from '../../src/merkle/index.js';

const HASH = 32;

/** Row `level` of a tile's subtree hashes, computed the plain way. */
function referenceRow(data: Buffer, level: number): Buffer[] {
  let row = Array.from({ length: data.length / HASH }, (_, i) => data.subarray(i * HASH, (i + 1) * HASH));
  for (let l = 0; l < level; l++)
    row = Array.from({ length: Math.floor(row.length / 2) }, (_, i) => nodeHash(row[2 * i], row[2 * i + 1]));
  return row;
}

describe('tile cache', () => {
  it('gives every complete subtree of a tile, read whole or grown batch by batch', () => {
    const full = randomBytes(256 * HASH);
    const whole = new TileCache();
    whole.put({ level: 0, index: 7 }, full);
    const grown = new TileCache();
    // Uneven batches, nodes asked for in between (so each version starts from the previous one's nodes).
    for (const width of [1, 3, 4, 37, 64, 65, 200, 255, 256]) {
      grown.put({ level: 0, index: 7 }, full.subarray(0, width * HASH));
      const t = grown.get({ level: 0, index: 7 });
      for (let level = 0; level < 8; level++) {
        const row = referenceRow(full.subarray(0, width * HASH), level);
        row.forEach((h, i) => {
          expect(t?.node(level, i)).toEqual(h);
        });
        // The next subtree is not complete in this version of the tile.
        expect(t?.node(level, row.length)).toBeUndefined();
      }
    }
    for (let level = 0; level < 8; level++)
      referenceRow(full, level).forEach((h, i) => {
        expect(whole.node(level, 7 * (256 >> level) + i)).toEqual(h);
      });
  });

  it('keeps a full cache to a few heap objects per tile', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const cache = new TileCache(4096);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 4096; i++) {
      cache.put({ level: 0, index: i }, randomBytes(256 * HASH));
      cache.get({ level: 0, index: i })?.node(7, 0);
    }
    gc();
    // 4096 tiles' nodes as one buffer per hash were ~320 MB of heap (two million objects); the hashes themselves
    // live outside the heap.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(32 * 1024 * 1024);
    expect(cache.node(7, 4095)).toBeDefined();
  });
});
