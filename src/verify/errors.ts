// Typed verification failures: every rule the verifier enforces fails with its own code, so callers (CLI, tests,
// the conformance entrypoint) can tell a wrong identity from a forged log entry without parsing messages.

export type VerificationErrorCode =
  | 'BUNDLE_INVALID'
  | 'TRUST_ROOT_INVALID'
  | 'POLICY_INVALID'
  | 'UNSUPPORTED'
  | 'CERT_INVALID'
  | 'CHAIN_UNTRUSTED'
  | 'CERT_EXPIRED_AT_SIGNING_TIME'
  | 'SCT_MISSING'
  | 'SCT_INVALID'
  | 'IDENTITY_MISMATCH'
  | 'ISSUER_MISMATCH'
  | 'CLAIM_MISMATCH'
  | 'KEY_MISMATCH'
  | 'ARTIFACT_MISSING'
  | 'DIGEST_MISMATCH'
  | 'SUBJECT_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'TLOG_MISSING'
  | 'TLOG_UNTRUSTED'
  | 'TLOG_BODY_MISMATCH'
  | 'SET_INVALID'
  | 'INCLUSION_PROOF_INVALID'
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_MISMATCH'
  | 'LOG_INCONSISTENT'
  | 'TIMESTAMP_MISSING'
  | 'TIMESTAMP_INVALID';

export class VerificationError extends Error {
  readonly code: VerificationErrorCode;
  constructor(code: VerificationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VerificationError';
    this.code = code;
  }
}

export function fail(code: VerificationErrorCode, message: string, cause?: unknown): never {
  throw new VerificationError(code, message, cause === undefined ? undefined : { cause });
}
