// Public interface of trust/: building, parsing and storing trusted_root.json and signing_config.json, and the
// TUF client that takes them from a repository (tuf-js, imported only when a mirror is used).

export {
  checkTransport,
  type FetchedTrust,
  fetchTrustConfig,
  LOG_STATE_FILE_NAME,
  type LoadTrustOptions,
  type LogState,
  loadTrustConfig,
  readLogState,
  type ServiceUrls,
  SIGNING_CONFIG_FILE_NAME,
  saveTrustConfig,
  serviceUrls,
  TRUST_ROOT_FILE_NAME,
  type TrustConfig,
  trustDir,
  writeLogState,
} from './store.js';
export {
  buildSigningConfig,
  buildTrustedRoot,
  type CaDescription,
  keyDetailsOf,
  type LogDescription,
  parseSigningConfig,
  parseTrustedRoot,
  SIGNING_CONFIG_MEDIA_TYPE,
  type SigningConfigInput,
  TRUSTED_ROOT_MEDIA_TYPE,
  type TrustedRootInput,
} from './trusted-root.js';
export {
  fetchTrustFromMirror,
  type MirrorOptions,
  type MirrorTrust,
  mirrorCacheName,
  mirrorUrl,
  TUF_CACHE_DIR,
} from './tuf-client.js';
