// Public interface of verify/: offline verification of Sigstore bundles against trust material and a policy.
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
  type CertificateIdentity,
  certificateIdentity,
  checkIdentity,
  type IdentityPolicy,
  type VerificationPolicy,
  validatePolicy,
} from './policy.js';
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
