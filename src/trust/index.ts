// Public interface of trust/: building, parsing and storing trusted_root.json and signing_config.json.

export {
  type FetchedTrust,
  fetchTrustConfig,
  type LoadTrustOptions,
  loadTrustConfig,
  type ServiceUrls,
  SIGNING_CONFIG_FILE_NAME,
  saveTrustConfig,
  serviceUrls,
  TRUST_ROOT_FILE_NAME,
  type TrustConfig,
  trustDir,
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
