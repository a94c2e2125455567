// Typed failures of the signing flows: each says which step failed (token, CA, log, TSA, registry, key, input) so the
// CLI can print a precise reason and tests can tell them apart without parsing messages.

export type SignErrorCode =
  | 'TOKEN_MISSING'
  | 'TOKEN_INVALID'
  | 'CA_ERROR'
  | 'LOG_ERROR'
  | 'TSA_ERROR'
  | 'REGISTRY_ERROR'
  | 'KEY_ERROR'
  | 'INPUT_ERROR'
  | 'TRUST_CONFIG';

export class SignError extends Error {
  readonly code: SignErrorCode;
  /** The transparency log entry already made when a later step (the registry push) failed. */
  readonly logIndex?: number;
  constructor(code: SignErrorCode, message: string, options?: { cause?: unknown; logIndex?: number }) {
    super(message, options);
    this.name = 'SignError';
    this.code = code;
    this.logIndex = options?.logIndex;
  }
}
