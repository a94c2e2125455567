// The right edge of a growing Merkle tree (a "compact range" over [0, size)): the roots of the complete subtrees
// that the binary decomposition of `size` splits the tree into, largest first. Appending a leaf costs one hash
// on average, and the root is a fold of at most log2(size) hashes, so a sequencer never re-reads old leaves.
import { EMPTY_ROOT, nodeHash } from './hash.js';
import { hashFromSubtrees, type SubtreeNode } from './proof.js';

export class CompactRange {
  #size: number;
  /** Subtree roots, left to right; their sizes are the set bits of #size, from the highest down. */
  #hashes: Buffer[];

  private constructor(size: number, hashes: Buffer[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /** Rebuilds the edge from the roots of compactSubtrees(size), in that order. */
  static fromSubtrees(size: number, hashes: Buffer[]): CompactRange {
    const expected = compactSubtrees(size).length;
    if (hashes.length !== expected)
      throw new Error(`size ${size} needs ${expected} subtree hashes, got ${hashes.length}`);
    return new CompactRange(
      size,
      hashes.map((h) => Buffer.from(h)),
    );
  }

  get size(): number {
    return this.#size;
  }

  /** Appends the next leaf hash, merging the complete subtrees it closes. */
  append(leaf: Buffer): void {
    let h = leaf;
    let n = this.#size;
    while (n % 2 === 1) {
      const left = this.#hashes.pop();
      if (!left) throw new Error('compact range is corrupt');
      h = nodeHash(left, h);
      n = Math.floor(n / 2);
    }
    this.#hashes.push(h);
    this.#size++;
  }

  /** The subtree roots, left to right: what fromSubtrees takes back (a monitor saves them with its state). */
  subtrees(): Buffer[] {
    return this.#hashes.map((h) => Buffer.from(h));
  }

  root(): Buffer {
    return this.#hashes.length === 0 ? EMPTY_ROOT : hashFromSubtrees(this.#hashes);
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, [...this.#hashes]);
  }
}

/** The complete subtrees covering [0, size), largest (leftmost) first. */
export function compactSubtrees(size: number): SubtreeNode[] {
  const out: SubtreeNode[] = [];
  let start = 0;
  for (let level = Math.floor(Math.log2(Math.max(size, 1))) + 1; level >= 0; level--) {
    const width = 2 ** level;
    if (start + width <= size) {
      out.push({ level, index: start / width });
      start += width;
    }
  }
  return out;
}
