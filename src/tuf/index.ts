// Public interface of tuf/: the TUF 1.0 repository that publishes sigil's trust root (engine, /tuf/ routes, the
// composed `tuf` service) for cosign v3, sigstore-go, sigstore-js and `sigil initialize --mirror`.
// See docs/design/tuf.md.
export { registerTufRoutes, TUF_PATH_PREFIX } from './http.js';
export { KEYS_DIR, roleKeyPath } from './keys.js';
export { DEFAULT_LIFETIMES, type Lifetimes, REFRESH_INTERVAL_MS, RENEW_BEFORE } from './plan.js';
export {
  type RefreshResult,
  type RepositoryStatus,
  type RoleStatus,
  type TargetContent,
  TufRepository,
  type TufRepositoryOptions,
} from './repository.js';
export {
  createTufService,
  openTufRepository,
  readTargets,
  type TargetSource,
  TUF_DIR,
  type TufServiceOptions,
  tufRootPath,
} from './service.js';
export { REPOSITORY_DIR } from './store.js';
