// Public interface of tuf/: the TUF 1.0 repository that publishes sigil's trust root (the `tuf` service and
// its repository on a data dir) for cosign v3, sigstore-go, sigstore-js and `sigil initialize --mirror`.
// See docs/design/tuf.md.
export { TUF_PATH_PREFIX } from './http.js';
export { roleKeyPath } from './keys.js';
export { RENEW_BEFORE } from './plan.js';
export {
  createTufService,
  openTufRepository,
  readTargets,
  type TargetSource,
  TUF_DIR,
  tufRootPath,
} from './service.js';
