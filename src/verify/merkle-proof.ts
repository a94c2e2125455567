// RFC 6962 §2.1.1 Merkle audit path verification (as restated in RFC 9162 §2.1.3.2): recompute the root from a
// leaf hash, its index, the tree size and the audit path. Kept in one file so it can be swapped for src/merkle
// once that lands.
import { createHash } from 'node:crypto';

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export function leafHash(leaf: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The root implied by an inclusion proof, or an Error message explaining why the proof is malformed. */
export function rootFromInclusionProof(
  index: number,
  treeSize: number,
  leaf: Buffer,
  proof: Buffer[],
): Buffer | string {
  if (!(index >= 0 && index < treeSize)) return `leaf index ${index} is outside a tree of size ${treeSize}`;
  if (proof.some((h) => h.length !== 32)) return 'audit path contains a hash that is not 32 bytes';
  // RFC 9162 §2.1.3.2: walk up with fn = index, sn = size - 1.
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return 'audit path is longer than the tree is deep';
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        // Right-most node with no right sibling at this level: skip levels until fn is a right child.
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return 'audit path is shorter than the tree is deep';
  return r;
}
