// trusted_root.json and signing_config.json (sigstore/protobuf-specs `sigstore_trustroot.proto`): the files a
// client is pointed at to trust sigil's CA, CT log and transparency log, and to find their URLs. Encoding goes
// through @sigstore/protobuf-specs' JSON mappers so field names and base64 bytes match what sigstore-js reads.
import type { KeyObject } from 'node:crypto';
import {
  HashAlgorithm,
  PublicKeyDetails,
  ServiceSelector,
  SigningConfig,
  type TransparencyLogInstance,
  TrustedRoot,
} from '@sigstore/protobuf-specs';
import { keyId, spkiDer } from '../crypto/index.js';

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
export const SIGNING_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

export interface LogDescription {
  /** Base URL the log is reached at, e.g. http://127.0.0.1:3000 for Rekor or http://.../ct for CT. */
  baseUrl: string;
  publicKey: KeyObject;
  /** When this key started signing; clients reject entries integrated before it. */
  validFrom: Date;
  /**
   * A Rekor v2 log's checkpoint key ID (C2SP signed-note: SHA-256 of name, newline, type byte and key): its logId
   * in the trusted root, whose first four bytes its checkpoint signatures carry. Rekor v1 logs are named by
   * SHA-256 of their SPKI instead.
   */
  checkpointKeyId?: Uint8Array;
}

export interface CaDescription {
  baseUrl: string;
  organization: string;
  commonName: string;
  /** DER certificates, issuing intermediate first, root last. */
  chain: Uint8Array[];
  validFrom: Date;
}

export interface TrustedRootInput {
  certificateAuthorities: CaDescription[];
  tlogs: LogDescription[];
  ctlogs: LogDescription[];
  /** RFC 3161 timestamp authorities: chain signing certificate first; baseUrl is the timestamp endpoint. */
  timestampAuthorities?: CaDescription[];
}

export function keyDetailsOf(key: KeyObject): PublicKeyDetails {
  if (key.asymmetricKeyType === 'ed25519') return PublicKeyDetails.PKIX_ED25519;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return PublicKeyDetails.PKIX_ECDSA_P256_SHA_256;
    if (curve === 'secp384r1') return PublicKeyDetails.PKIX_ECDSA_P384_SHA_384;
  }
  throw new Error(`unsupported log key type ${key.asymmetricKeyType}`);
}

function logInstance(log: LogDescription): TransparencyLogInstance {
  return {
    operator: '',
    // Rekor v1 logs are identified by logId alone; checkpoint_key_id is for Rekor v2 instances.
    checkpointKeyId: undefined,
    baseUrl: log.baseUrl,
    hashAlgorithm: HashAlgorithm.SHA2_256,
    publicKey: {
      rawBytes: spkiDer(log.publicKey),
      keyDetails: keyDetailsOf(log.publicKey),
      validFor: { start: log.validFrom },
    },
    logId: { keyId: log.checkpointKeyId ? Buffer.from(log.checkpointKeyId) : keyId(log.publicKey) },
  };
}

function authority(ca: CaDescription) {
  return {
    subject: { organization: ca.organization, commonName: ca.commonName },
    uri: ca.baseUrl,
    certChain: { certificates: ca.chain.map((der) => ({ rawBytes: Buffer.from(der) })) },
    validFor: { start: ca.validFrom },
    operator: '',
  };
}

/** The JSON object of a trusted_root.json naming the given CAs and logs. */
export function buildTrustedRoot(input: TrustedRootInput): Record<string, unknown> {
  const root: TrustedRoot = {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: input.tlogs.map(logInstance),
    ctlogs: input.ctlogs.map(logInstance),
    certificateAuthorities: input.certificateAuthorities.map(authority),
    timestampAuthorities: (input.timestampAuthorities ?? []).map(authority),
  };
  return TrustedRoot.toJSON(root) as Record<string, unknown>;
}

export interface SigningConfigInput {
  caUrl: string;
  oidcUrl?: string;
  rekorUrl: string;
  /** The Rekor API the log speaks: 1 (default) or 2 (tile-based; clients then need a TSA). */
  rekorApiVersion?: 1 | 2;
  /** RFC 3161 timestamp endpoints clients are to fetch a timestamp from (…/api/v1/timestamp). */
  tsaUrls?: string[];
  validFrom: Date;
  operator?: string;
}

/** The JSON object of a signing_config.json pointing clients at sigil's services. */
export function buildSigningConfig(input: SigningConfigInput): Record<string, unknown> {
  const service = (url: string, majorApiVersion: number) => ({
    url,
    majorApiVersion,
    validFor: { start: input.validFrom },
    operator: input.operator ?? 'sigil',
  });
  const config: SigningConfig = {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: [service(input.caUrl, 1)],
    oidcUrls: input.oidcUrl ? [service(input.oidcUrl, 1)] : [],
    rekorTlogUrls: [service(input.rekorUrl, input.rekorApiVersion ?? 1)],
    // protobuf-specs sigstore_trustroot.proto ServiceConfiguration: ANY = one of the listed services will do.
    rekorTlogConfig: { selector: ServiceSelector.ANY, count: 0 },
    tsaUrls: (input.tsaUrls ?? []).map((url) => service(url, 1)),
    tsaConfig: { selector: ServiceSelector.ANY, count: 0 },
  };
  return SigningConfig.toJSON(config) as Record<string, unknown>;
}

/** Parses a trusted_root.json document, with a clear error when it is not one. */
export function parseTrustedRoot(json: unknown): TrustedRoot {
  if (typeof json !== 'object' || json === null) throw new Error('trusted root: not a JSON object');
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !mediaType.startsWith('application/vnd.dev.sigstore.trustedroot')) {
    throw new Error(`trusted root: unexpected mediaType ${JSON.stringify(mediaType)}`);
  }
  return TrustedRoot.fromJSON(json);
}

export function parseSigningConfig(json: unknown): SigningConfig {
  if (typeof json !== 'object' || json === null) throw new Error('signing config: not a JSON object');
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !mediaType.startsWith('application/vnd.dev.sigstore.signingconfig')) {
    throw new Error(`signing config: unexpected mediaType ${JSON.stringify(mediaType)}`);
  }
  return SigningConfig.fromJSON(json);
}
