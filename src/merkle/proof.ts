// Inclusion and consistency proofs for RFC 6962 Merkle trees: which subtree hashes a proof is made of (so a
// store can fetch them in one round, from tiles or rows), and the verifiers of RFC 9162 §2.1.3.2 / §2.1.4.2.
// Tree sizes are plain numbers (exact up to 2^53); no 32-bit bitwise operators are used on them.
import { timingSafeEqual } from 'node:crypto';
import { HASH_SIZE, nodeHash, splitPoint } from './hash.js';

/** A half-open range of leaf indices [start, end) whose Merkle Tree Hash MTH(D[start:end]) is needed. */
export interface LeafRange {
  start: number;
  end: number;
}

/** The root of a complete subtree: 2^level leaves starting at index * 2^level. */
export interface SubtreeNode {
  level: number;
  index: number;
}

function checkSize(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative safe integer`);
}

/**
 * PATH(m, D[0:n]) (RFC 6962 §2.1.1) as tree nodes, leaf up to root, planned level by level instead of by
 * recursion: at each level, the sibling of the node that holds m, if the tree has it. A left sibling is always a
 * complete subtree. A right sibling is complete unless it runs into the end of the tree; that happens at most
 * once per path (above it, m's node lies on the tree's right edge, which has no right siblings), and that one
 * is given as the leaf range [start, n). Same proof as inclusionRanges, with far less work per proof.
 */
export function inclusionPath(index: number, size: number): (SubtreeNode | LeafRange)[] {
  checkSize('index', index);
  checkSize('size', size);
  if (index >= size) throw new RangeError(`index ${index} is not below tree size ${size}`);
  const out: (SubtreeNode | LeafRange)[] = [];
  let node = index;
  for (let level = 0, width = 1; width < size; level++, width *= 2) {
    if (node % 2 === 1) out.push({ level, index: node - 1 });
    else {
      const start = (node + 1) * width;
      if (start + width <= size) out.push({ level, index: node + 1 });
      else if (start < size) out.push({ start, end: size });
    }
    node = Math.floor(node / 2);
  }
  return out;
}

/** The ranges of PATH(m, D[0:n]) (RFC 6962 §2.1.1), ordered from the leaf up to the root. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  return inclusionPath(index, size).map(nodeRange);
}

/** The leaves under a proof node: a complete subtree's, or the range itself. */
export function nodeRange(p: SubtreeNode | LeafRange): LeafRange {
  if (!('level' in p)) return p;
  const width = 2 ** p.level;
  return { start: p.index * width, end: (p.index + 1) * width };
}

/** The ranges of PROOF(m, D[0:n]) (RFC 6962 §2.1.2); empty when m is 0 or m equals n. */
export function consistencyRanges(first: number, second: number): LeafRange[] {
  checkSize('first size', first);
  checkSize('second size', second);
  if (first > second) throw new RangeError(`first size ${first} is larger than second size ${second}`);
  const out: LeafRange[] = [];
  if (first === 0 || first === second) return out;
  const sub = (m: number, lo: number, hi: number, whole: boolean): void => {
    const n = hi - lo;
    if (m === n) {
      if (!whole) out.push({ start: lo, end: hi });
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, lo, lo + k, whole);
      out.push({ start: lo + k, end: hi });
    } else {
      sub(m - k, lo + k, hi, false);
      out.push({ start: lo, end: lo + k });
    }
  };
  sub(first, 0, second, true);
  return out;
}

/**
 * The complete subtrees whose hashes combine (right to left, see hashFromSubtrees) into MTH(D[start:end]).
 * Ranges produced by the proof planners above always decompose this way; an unaligned range is rejected.
 */
export function rangeSubtrees(range: LeafRange): SubtreeNode[] {
  const out: SubtreeNode[] = [];
  let { start } = range;
  const { end } = range;
  if (!(start < end)) throw new RangeError(`empty range [${start}, ${end})`);
  while (start < end) {
    const n = end - start;
    const k = n === 1 ? 1 : isPowerOfTwo(n) ? n : splitPoint(n);
    if (start % k !== 0) throw new RangeError(`range [${range.start}, ${end}) is not aligned to subtrees`);
    out.push({ level: Math.log2(k), index: start / k });
    start += k;
  }
  return out;
}

/** MTH of a range from the hashes of its rangeSubtrees(), per the recursive definition of RFC 6962 §2.1. */
export function hashFromSubtrees(hashes: Uint8Array[]): Buffer {
  if (hashes.length === 0) throw new RangeError('no subtree hashes');
  let h: Buffer = Buffer.from(hashes[hashes.length - 1]);
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i], h);
  return h;
}

export function isPowerOfTwo(n: number): boolean {
  return n >= 1 && 2 ** Math.round(Math.log2(n)) === n;
}

const odd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === HASH_SIZE && b.length === HASH_SIZE && timingSafeEqual(a, b);
}

/**
 * The root implied by an inclusion proof (RFC 9162 §2.1.3.2), or a sentence saying why the proof is malformed,
 * for verifiers that report the reason (a proof that is too long or too short for the tree is malformed).
 */
export function rootFromInclusionProofOrReason(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: Uint8Array[],
): Buffer | string {
  if (!(index >= 0 && index < size)) return `leaf index ${index} is outside a tree of size ${size}`;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size))
    return `leaf index ${index} and tree size ${size} must be integers`;
  if (leaf.length !== HASH_SIZE) return 'leaf hash is not 32 bytes';
  if (proof.some((p) => p.length !== HASH_SIZE)) return 'audit path contains a hash that is not 32 bytes';
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return 'audit path is longer than the tree is deep';
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn)) {
        // The right-most node has no right sibling at this level: skip levels until fn is a right child.
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : 'audit path is shorter than the tree is deep';
}

/** The root implied by an inclusion proof (RFC 9162 §2.1.3.2), or undefined when the proof is malformed. */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: Uint8Array[],
): Buffer | undefined {
  const root = rootFromInclusionProofOrReason(index, size, leaf, proof);
  return typeof root === 'string' ? undefined : root;
}

/** RFC 9162 §2.1.3.2: does `proof` show the leaf with hash `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
): boolean {
  const computed = rootFromInclusionProofOrReason(index, size, leaf, proof);
  return typeof computed !== 'string' && sameHash(computed, root);
}

/** RFC 9162 §2.1.4.2: is the tree (second, secondRoot) an append-only extension of (first, firstRoot)? */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second)
    return false;
  if (proof.some((p) => p.length !== HASH_SIZE)) return false;
  if (first === second) return proof.length === 0 && sameHash(firstRoot, secondRoot);
  // The empty tree is a prefix of every tree; there is nothing to prove.
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && sameHash(fr, firstRoot) && sameHash(sr, secondRoot);
}
