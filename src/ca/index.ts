// Public interface of ca/: the Fulcio-compatible certificate authority (engine, HTTP routes, the `ca` service, the
// interfaces it takes a CT log through) and the identity mapping other components may want to reuse.
export {
  CertificateAuthority,
  type CtLogLink,
  type IssuedCertificate,
  type SctSource,
  type WorkerSctSource,
} from './authority.js';
export { LEAF_VALIDITY_MS, toPem } from './certificate.js';
export {
  CA_CONFIG_FILE,
  type CaConfig,
  DEFAULT_AUDIENCE,
  DEFAULT_SIGNING_RATE_LIMIT,
  defaultCaConfig,
  GITHUB_ACTIONS_ISSUER,
  loadCaConfig,
  parseCaConfig,
} from './config.js';
export { CaError } from './errors.js';
export { type CaHierarchy, type HierarchySigners, openHierarchy } from './hierarchy.js';
export { configurationJson, registerCaRoutes } from './http.js';
export {
  ISSUER_TYPES,
  type IssuerConfig,
  type IssuerType,
  type Principal,
  principalFromClaims,
} from './identity.js';
export type { SigningInput, SigningRequest } from './request.js';
export { type CaServiceOptions, createCaService } from './service.js';
export { ACCEPTED_ALGORITHMS, CLOCK_SKEW_SECONDS, TokenVerifier, type VerifiedToken } from './tokens.js';
