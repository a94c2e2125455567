// Public interface of merkle/: RFC 6962 hashing, proof planning and proof verification, and the compact range
// a sequencer keeps. Used by the transparency log, the CT log and the client-side verifier.
export { CompactRange, compactSubtrees } from './compact.js';
export { EMPTY_ROOT, leafHash, nodeHash } from './hash.js';
export {
  consistencyRanges,
  hashFromSubtrees,
  inclusionPath,
  inclusionRanges,
  type LeafRange,
  nodeRange,
  rangeSubtrees,
  rootFromInclusionProof,
  rootFromInclusionProofOrReason,
  type SubtreeNode,
  verifyConsistency,
  verifyInclusion,
} from './proof.js';
