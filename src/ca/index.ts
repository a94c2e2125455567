// Public interface of ca/: the Fulcio-compatible certificate authority's configuration, its key hierarchy and
// the `ca` service (with its engine and routes; it takes a CT log through authority.ts' SctSource/CtLogLink).
export {
  type CaConfig,
  DEFAULT_AUDIENCE,
  DEFAULT_SIGNING_RATE_LIMIT,
  defaultCaConfig,
  loadCaConfig,
  parseCaConfig,
} from './config.js';
export { type CaHierarchy, type HierarchySigners, openHierarchy } from './hierarchy.js';
export type { SigningInput } from './request.js';
export { createCaService } from './service.js';
