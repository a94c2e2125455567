// Public interface of verify/: all verification — Sigstore bundles offline against trust material and a policy,
// image signatures in both registry layouts, and a log's own answers (SETs, inclusion, checkpoints, consistency).
// Usage: const trust = loadTrustMaterial(trustedRootJson);
//        const result = verifyBundle(bundleJson, artifactBytes, { identity: { subjectAlternativeName, issuer } }, trust);
export { checkLeaf, checkPathAtTimes, findCertificatePaths, verifyEmbeddedScts } from './certificate.js';
export { VerificationError } from './errors.js';
export { type VerifiedSignature, verifyImage } from './image.js';
export {
  checkConsistent,
  proofSteps,
  type VerifiedCheckpoint,
  verifyCheckpointNote,
  verifyEntryInclusion,
  verifySignedEntryTimestamp,
} from './log.js';
export {
  certificateIdentity,
  checkIdentity,
  type IdentityPolicy,
  type VerificationPolicy,
} from './policy.js';
export { verifySignedTreeHead } from './sth.js';
export { loadTrustMaterial, type TrustedLog, type TrustMaterial } from './trust-material.js';
export { type ArtifactInput, type VerificationResult, verifyBundle } from './verifier.js';
