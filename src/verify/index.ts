// Public interface of verify/: all verification — Sigstore bundles offline against trust material and a policy,
// image signatures in both registry layouts, and a log's own answers (SETs, inclusion, checkpoints, consistency).
// Usage: const trust = loadTrustMaterial(trustedRootJson);
//        const result = verifyBundle(bundleJson, artifactBytes, { identity: { subjectAlternativeName, issuer } }, trust);
export {
  type CertificatePath,
  checkLeaf,
  checkPathAtTimes,
  findCertificatePaths,
  verifyChain,
  verifyEmbeddedScts,
} from './certificate.js';
export { fail, VerificationError, type VerificationErrorCode } from './errors.js';
export {
  type Candidate,
  findSignatures,
  type ImageVerification,
  ImageVerificationError,
  type ImageVerifyOptions,
  type SignatureLayout,
  type VerifiedSignature,
  verifyImage,
} from './image.js';
export {
  checkConsistent,
  type EntryProofReport,
  freshCheckpoint,
  type LogClient,
  type ProofStep,
  proofSteps,
  type VerifiedCheckpoint,
  verifyCheckpointNote,
  verifyEntryInclusion,
  verifySignedEntryTimestamp,
} from './log.js';
export {
  type CertificateIdentity,
  certificateIdentity,
  checkIdentity,
  type IdentityPolicy,
  type VerificationPolicy,
  validatePolicy,
} from './policy.js';
export { type VerifiedTreeHead, verifySignedTreeHead } from './sth.js';
export {
  loadTrustMaterial,
  type TimeRange,
  type TrustedAuthority,
  type TrustedCertificate,
  type TrustedLog,
  type TrustMaterial,
} from './trust-material.js';
export {
  type ArtifactInput,
  CHECK_DESCRIPTIONS,
  type CheckId,
  type VerificationResult,
  verifyBundle,
} from './verifier.js';
