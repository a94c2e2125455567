// Reads complete-subtree hashes out of tlog tiles. A tile holds 256 consecutive hashes of one tree level (8·L);
// any subtree between levels 8·L and 8·L+7 is rebuilt from its slice of the tile. Each tile's inner levels are
// computed once and cached, so a proof costs at most one tile read per 8 tree levels: O(log n) reads.

import { TILE_HEIGHT, TILE_WIDTH } from '../formats/index.js';
import { nodeHash, type SubtreeNode } from '../merkle/index.js';
import type { TileKey } from './storage.js';

const HASH = 32;

/** The tile, and tile-local position, that holds the hash of a complete subtree. */
export function locateSubtree(node: SubtreeNode): { tile: TileKey; subLevel: number; offset: number } {
  const level = Math.floor(node.level / TILE_HEIGHT);
  const subLevel = node.level - level * TILE_HEIGHT;
  const perTile = TILE_WIDTH / 2 ** subLevel;
  const index = Math.floor(node.index / perTile);
  return { tile: { level, index }, subLevel, offset: node.index - index * perTile };
}

class TileNodes {
  readonly data: Buffer;
  /**
   * Row r of the tile's inner levels, its hashes back to back in one buffer. One buffer a row rather than a
   * buffer a hash: a full cache is 4096 tiles of 511 nodes, and as two million small objects it made every major
   * garbage collection of a long-running log take ~300 ms (#17: p99 at 1,000 appends/s over five minutes).
   */
  #levels: Buffer[] | undefined;
  /** A shorter version of the same tile whose computed nodes are still valid here (tiles only grow). */
  #previous: TileNodes | undefined;

  constructor(data: Buffer, previous?: TileNodes) {
    this.data = data;
    // Keep at most one older version: the newest one that has its nodes computed.
    this.#previous = previous && (previous.#levels ? previous : previous.#previous);
  }

  get width(): number {
    return this.data.length / HASH;
  }

  /** Hash of the subtree at `subLevel` (0..7) and tile-local `offset`, or undefined if not complete in this tile. */
  node(subLevel: number, offset: number): Buffer | undefined {
    if (!this.#levels) {
      // The right edge's tile is rewritten after every batch: start from the nodes its previous version had, so
      // a batch costs hashes for its own entries only, not for the whole tile again.
      const before = this.#previous ? this.#previous.#levels : undefined;
      this.#previous = undefined;
      const levels = [this.data];
      for (let r = 1; r < TILE_HEIGHT; r++) {
        const below = levels[r - 1];
        const count = Math.floor(below.length / HASH / 2);
        const row = Buffer.allocUnsafe(count * HASH);
        const known = Math.min(count * HASH, before?.[r]?.length ?? 0);
        if (known > 0) before?.[r].copy(row, 0, 0, known);
        for (let i = known / HASH; i < count; i++) {
          const left = below.subarray(2 * i * HASH, (2 * i + 1) * HASH);
          const right = below.subarray((2 * i + 1) * HASH, (2 * i + 2) * HASH);
          nodeHash(left, right).copy(row, i * HASH);
        }
        levels.push(row);
      }
      this.#levels = levels;
    }
    const row = this.#levels[subLevel];
    if (!row || (offset + 1) * HASH > row.length) return undefined;
    return row.subarray(offset * HASH, (offset + 1) * HASH);
  }
}

/** Numeric cache key of a tile: levels stay below 16 (8 tree levels each), indices below 2^49. */
const cacheKey = (level: number, index: number) => index * 16 + level;

/** An LRU of parsed tiles. Tiles only ever grow, so a cached tile is replaced when a longer version is stored. */
export class TileCache {
  readonly #max: number;
  readonly #tiles = new Map<number, TileNodes>();

  constructor(max = 4096) {
    this.#max = max;
  }

  get(key: TileKey): TileNodes | undefined {
    return this.#get(cacheKey(key.level, key.index));
  }

  #get(k: number): TileNodes | undefined {
    const t = this.#tiles.get(k);
    if (t) {
      this.#tiles.delete(k);
      this.#tiles.set(k, t);
    }
    return t;
  }

  /**
   * Hash of the complete subtree at tree `level` and `index`, when the tile holding it is cached (and holds it:
   * undefined also when the cached tile is too short).
   */
  node(level: number, index: number): Buffer | undefined {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const subLevel = level - tileLevel * TILE_HEIGHT;
    const perTile = TILE_WIDTH / 2 ** subLevel;
    const tileIndex = Math.floor(index / perTile);
    return this.#get(cacheKey(tileLevel, tileIndex))?.node(subLevel, index - tileIndex * perTile);
  }

  put(key: TileKey, data: Buffer): TileNodes {
    const k = cacheKey(key.level, key.index);
    const old = this.#tiles.get(k);
    if (old && old.data.length >= data.length) return old;
    // The stored tile only ever extends the cached one, so the cached one's nodes carry over.
    const t = new TileNodes(data, old);
    this.#tiles.delete(k);
    this.#tiles.set(k, t);
    if (this.#tiles.size > this.#max) {
      const oldest = this.#tiles.keys().next().value;
      if (oldest !== undefined) this.#tiles.delete(oldest);
    }
    return t;
  }

  clear(): void {
    this.#tiles.clear();
  }
}

/** MTH of a full tile's 256 hashes: the level-(8·L+8) node it contributes to the tile above. */
export function tileRoot(hashes: Buffer[]): Buffer {
  let row = hashes;
  while (row.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i], row[i + 1]));
    row = next;
  }
  return row[0];
}
