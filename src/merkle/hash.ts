// RFC 6962 §2.1 Merkle tree hashing (SHA-256): leaves and interior nodes are domain-separated by a 0x00 / 0x01
// prefix so a leaf can never be passed off as a node. Shared by the transparency log, the CT log and verifiers.
import { createHash, hash } from 'node:crypto';

export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) = SHA-256() — the root of the empty tree. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** 0x00 || d for leafHash, grown as needed and reused (hashing is synchronous). */
let leafInput = Buffer.alloc(4096);

/** MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(data: Uint8Array): Buffer {
  // One-shot crypto.hash over a reused buffer: about half the cost of a Hash object with two updates, and the
  // log hashes every entry it appends. Large leaves (rare) do not grow the buffer past 64 KiB.
  if (data.length >= 65_536) return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
  if (data.length + 1 > leafInput.length) leafInput = Buffer.alloc(2 * (data.length + 1));
  leafInput[0] = 0;
  leafInput.set(data, 1);
  return hash('sha256', leafInput.subarray(0, data.length + 1), 'buffer');
}

/** 0x01 || left || right for two 32-byte hashes, reused: hashing is synchronous, so no caller can interleave. */
const NODE_INPUT = Buffer.alloc(1 + 2 * HASH_SIZE, NODE_PREFIX);

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length === HASH_SIZE && right.length === HASH_SIZE) {
    // One-shot crypto.hash over a prefilled buffer costs about a third less than a Hash object with three
    // updates, and proof verification and tile building are mostly node hashes.
    NODE_INPUT.set(left, 1);
    NODE_INPUT.set(right, 1 + HASH_SIZE);
    return hash('sha256', NODE_INPUT, 'buffer');
  }
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** Largest power of two strictly less than n (n ≥ 2): the split point k of RFC 6962 §2.1. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
