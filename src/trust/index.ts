// Public interface of trust/: building, parsing and storing trusted_root.json and signing_config.json.
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
