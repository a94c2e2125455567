// A deliberately naive RFC 6962 §2.1 reference, independent of src/merkle: roots are computed from the leaves by
// the recursive MTH definition, proofs are built by PATH and SUBPROOF literally, and verified by replaying the same
// recursion. No tiles and no bit tricks, so it cannot share a bug with the production code. MTH of a leaf range is
// memoised per leaf array (the definition is unchanged, only repeated work is skipped).
import { createHash } from 'node:crypto';

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
export const refLeaf = (d: Uint8Array) => sha(Buffer.from([0]), d);
const refNode = (l: Uint8Array, r: Uint8Array) => sha(Buffer.from([1]), l, r);

function k(n: number): number {
  let x = 1;
  while (x * 2 < n) x *= 2;
  return x;
}

const memo = new WeakMap<Uint8Array[], Map<string, Buffer>>();

/** MTH(D[lo:hi]) over raw leaf data. */
export function refRoot(leaves: Uint8Array[], lo = 0, hi = leaves.length): Buffer {
  let cache = memo.get(leaves);
  if (!cache) {
    cache = new Map();
    memo.set(leaves, cache);
  }
  const key = `${lo}:${hi}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let h: Buffer;
  if (hi === lo) h = sha();
  else if (hi - lo === 1) h = refLeaf(leaves[lo]);
  else {
    const s = k(hi - lo);
    h = refNode(refRoot(leaves, lo, lo + s), refRoot(leaves, lo + s, hi));
  }
  cache.set(key, h);
  return h;
}

/** PATH(m, D[0:n]). */
export function refPath(m: number, n: number, leaves: Uint8Array[]): Buffer[] {
  const path = (m: number, lo: number, hi: number): Buffer[] => {
    if (hi - lo <= 1) return [];
    const s = k(hi - lo);
    if (m < s) return [...path(m, lo, lo + s), refRoot(leaves, lo + s, hi)];
    return [...path(m - s, lo + s, hi), refRoot(leaves, lo, lo + s)];
  };
  return path(m, 0, n);
}

/** PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true). */
export function refProof(m: number, n: number, leaves: Uint8Array[]): Buffer[] {
  if (m === 0) return [];
  const sub = (m: number, lo: number, hi: number, b: boolean): Buffer[] => {
    if (m === hi - lo) return b ? [] : [refRoot(leaves, lo, hi)];
    const s = k(hi - lo);
    if (m <= s) return [...sub(m, lo, lo + s, b), refRoot(leaves, lo + s, hi)];
    return [...sub(m - s, lo + s, hi, false), refRoot(leaves, lo, lo + s)];
  };
  return sub(m, 0, n, true);
}

/** Replays PATH to recompute the root; true iff it equals `root` and every proof hash was used. */
export function refVerifyInclusion(
  m: number,
  n: number,
  leafHash: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
): boolean {
  if (m < 0 || m >= n) return false;
  const rest = [...proof];
  const walk = (m: number, n: number): Buffer | undefined => {
    if (n === 1) return Buffer.from(leafHash);
    const sibling = rest.pop();
    if (!sibling) return undefined;
    const s = k(n);
    if (m < s) {
      const left = walk(m, s);
      return left && refNode(left, sibling);
    }
    const right = walk(m - s, n - s);
    return right && refNode(sibling, right);
  };
  const got = walk(m, n);
  return got !== undefined && rest.length === 0 && got.equals(Buffer.from(root));
}

/** Replays SUBPROOF to recompute both roots; true iff both match and the proof is used up exactly. */
export function refVerifyConsistency(
  m: number,
  n: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: Uint8Array[],
): boolean {
  if (m > n || m < 0) return false;
  if (m === 0) return proof.length === 0;
  if (m === n) return proof.length === 0 && Buffer.from(oldRoot).equals(Buffer.from(newRoot));
  const rest = [...proof];
  const sub = (m: number, n: number, b: boolean): [Buffer, Buffer] | undefined => {
    if (m === n) {
      if (b) return [Buffer.from(oldRoot), Buffer.from(oldRoot)];
      const h = rest.pop();
      return h ? [Buffer.from(h), Buffer.from(h)] : undefined;
    }
    const sibling = rest.pop();
    if (!sibling) return undefined;
    const s = k(n);
    if (m <= s) {
      const r = sub(m, s, b);
      return r && [r[0], refNode(r[1], sibling)];
    }
    const r = sub(m - s, n - s, false);
    return r && [refNode(sibling, r[0]), refNode(sibling, r[1])];
  };
  const got = sub(m, n, true);
  return (
    got !== undefined &&
    rest.length === 0 &&
    got[0].equals(Buffer.from(oldRoot)) &&
    got[1].equals(Buffer.from(newRoot))
  );
}

export function makeLeaves(n: number, tag = 'leaf'): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`${tag}-${i}`));
}
