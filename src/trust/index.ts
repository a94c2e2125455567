// Public interface of trust/: building, parsing and storing trusted_root.json and signing_config.json, and the
// TUF client that takes them from a repository (tuf-js, imported only when a mirror is used).

export {
  fetchTrustConfig,
  loadTrustConfig,
  readLogState,
  saveTrustConfig,
  serviceUrls,
  writeLogState,
} from './store.js';
export {
  buildSigningConfig,
  buildTrustedRoot,
  parseSigningConfig,
  parseTrustedRoot,
} from './trusted-root.js';
export { fetchTrustFromMirror, mirrorUrl } from './tuf-client.js';
