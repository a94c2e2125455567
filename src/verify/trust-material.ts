// Trust material: trusted_root.json (sigstore/protobuf-specs sigstore_trustroot.proto) turned once into what the
// checks need at hand — parsed CA chains with their keys (the chains' own signatures checked here, once), log keys
// as KeyObjects indexed by log ID, and validity windows as epoch milliseconds. Verifications reuse it untouched.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { PublicKeyDetails, type TransparencyLogInstance, type TrustedRoot } from '@sigstore/protobuf-specs';
import {
  type Certificate,
  certificatePublicKey,
  certificateSignedBy,
  parseCertificate,
} from '../formats/index.js';
import { parseTrustedRoot } from '../trust/index.js';
import { fail } from './errors.js';

/** Closed interval [start, end] in epoch milliseconds (TimeRange in sigstore_common.proto is inclusive). */
export interface TimeRange {
  start: number;
  end: number;
}

export interface TrustedCertificate {
  cert: Certificate;
  key: KeyObject;
  /** SHA-256 of the DER SubjectPublicKeyInfo: the issuer_key_hash of RFC 6962 precertificate entries. */
  keyHash: Buffer;
}

export interface TrustedAuthority {
  name: string;
  /** Issuing certificate first, root last. */
  chain: TrustedCertificate[];
  validFor: TimeRange;
  /** Why this authority cannot be used, when its entry in the trusted root is broken. */
  unusable?: string;
}

export interface TrustedLog {
  baseUrl: string;
  logId: Buffer;
  /** Signed-note key ID (Rekor v2), when the trusted root gives one. */
  checkpointKeyId: Buffer | undefined;
  key: KeyObject;
  /** Hash node:crypto verifies with for this key (null for Ed25519). */
  hash: string | null;
  validFor: TimeRange;
  unusable?: string;
}

export interface TrustMaterial {
  certificateAuthorities: TrustedAuthority[];
  timestampAuthorities: TrustedAuthority[];
  /** Keyed by hex log ID (and hex checkpoint key ID where it differs). */
  tlogs: Map<string, TrustedLog[]>;
  ctlogs: Map<string, TrustedLog[]>;
}

const END_OF_TIME = 8.64e15;

function range(validFor: { start?: Date; end?: Date } | undefined): TimeRange {
  return { start: validFor?.start?.getTime() ?? 0, end: validFor?.end?.getTime() ?? END_OF_TIME };
}

function hashFor(details: PublicKeyDetails, key: KeyObject): string | null {
  switch (details) {
    case PublicKeyDetails.PKIX_ED25519:
      return null;
    case PublicKeyDetails.PKIX_ECDSA_P384_SHA_384:
      return 'sha384';
    case PublicKeyDetails.PKIX_ECDSA_P521_SHA_512:
      return 'sha512';
    case PublicKeyDetails.PUBLIC_KEY_DETAILS_UNSPECIFIED:
      if (key.asymmetricKeyType === 'ed25519') return null;
      if (key.asymmetricKeyDetails?.namedCurve === 'secp384r1') return 'sha384';
      return 'sha256';
    default:
      return 'sha256';
  }
}

function loadLog(log: TransparencyLogInstance, kind: string, index: number): TrustedLog {
  const pk = log.publicKey;
  const name = `${kind}[${index}] ${log.baseUrl}`;
  if (!pk?.rawBytes || !log.logId?.keyId)
    fail('TRUST_ROOT_INVALID', `trusted root ${name} has no public key or log ID`);
  const pkcs1 = pk.keyDetails === PublicKeyDetails.PKCS1_RSA_PKCS1V5;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(pk.rawBytes), format: 'der', type: pkcs1 ? 'pkcs1' : 'spki' });
  } catch (err) {
    fail('TRUST_ROOT_INVALID', `trusted root ${name}: public key does not parse`, err);
  }
  const out: TrustedLog = {
    baseUrl: log.baseUrl,
    logId: Buffer.from(log.logId.keyId),
    checkpointKeyId: log.checkpointKeyId?.keyId ? Buffer.from(log.checkpointKeyId.keyId) : undefined,
    key,
    hash: hashFor(pk.keyDetails, key),
    validFor: range(pk.validFor),
  };
  // A key without a start of validity cannot be placed in time; treating it as "always" would widen trust.
  if (!pk.validFor?.start) out.unusable = `trusted root ${name} has no validFor.start for its key`;
  return out;
}

function trustedCertificate(der: Uint8Array, what: string): TrustedCertificate {
  let cert: Certificate;
  try {
    cert = parseCertificate(Buffer.from(der));
  } catch (err) {
    fail('TRUST_ROOT_INVALID', `${what} does not parse: ${(err as Error).message}`, err);
  }
  return { cert, key: certificatePublicKey(cert), keyHash: createHash('sha256').update(cert.spki).digest() };
}

function loadAuthority(
  ca: TrustedRoot['certificateAuthorities'][number],
  kind: string,
  index: number,
): TrustedAuthority {
  const name = `${kind}[${index}] ${ca.uri || ca.subject?.commonName || ''}`.trim();
  const certs = ca.certChain?.certificates ?? [];
  const chain = certs.map((c, j) => trustedCertificate(c.rawBytes, `trusted root ${name}: certificate ${j}`));
  const authority: TrustedAuthority = { name, chain, validFor: range(ca.validFor) };
  if (chain.length === 0) authority.unusable = `trusted root ${name} has an empty certificate chain`;
  // As for log keys: an authority that says nothing of when it was trusted is not trusted at any time.
  if (!ca.validFor?.start) authority.unusable = `trusted root ${name} has no validFor.start`;
  // The chain is checked once here: each certificate signed by the next; the last one is the trust anchor.
  for (let j = 0; j + 1 < chain.length; j++) {
    if (
      !chain[j].cert.issuer.equals(chain[j + 1].cert.subject) ||
      !certificateSignedBy(chain[j].cert, chain[j + 1].key)
    ) {
      authority.unusable = `trusted root ${name}: certificate ${j} is not issued by certificate ${j + 1}`;
    }
  }
  return authority;
}

function index(logs: TrustedLog[]): Map<string, TrustedLog[]> {
  const map = new Map<string, TrustedLog[]>();
  const add = (id: Buffer, log: TrustedLog) => {
    const k = id.toString('hex');
    const list = map.get(k) ?? [];
    if (!list.includes(log)) list.push(log);
    map.set(k, list);
  };
  for (const log of logs) {
    add(log.logId, log);
    if (log.checkpointKeyId) add(log.checkpointKeyId, log);
  }
  return map;
}

/** Loads trust material from a trusted_root.json document (text, bytes or parsed JSON). */
export function loadTrustMaterial(trustedRootJson: string | Uint8Array | unknown): TrustMaterial {
  let json = trustedRootJson;
  if (typeof json === 'string' || json instanceof Uint8Array) {
    try {
      json = JSON.parse(typeof json === 'string' ? json : Buffer.from(json).toString('utf8'));
    } catch (err) {
      fail('TRUST_ROOT_INVALID', `trusted root is not valid JSON: ${(err as Error).message}`, err);
    }
  }
  let root: TrustedRoot;
  try {
    root = parseTrustedRoot(json);
  } catch (err) {
    fail('TRUST_ROOT_INVALID', (err as Error).message, err);
  }
  return {
    certificateAuthorities: root.certificateAuthorities.map((ca, i) =>
      loadAuthority(ca, 'certificateAuthorities', i),
    ),
    timestampAuthorities: root.timestampAuthorities.map((ca, i) =>
      loadAuthority(ca, 'timestampAuthorities', i),
    ),
    tlogs: index(root.tlogs.map((l, i) => loadLog(l, 'tlogs', i))),
    ctlogs: index(root.ctlogs.map((l, i) => loadLog(l, 'ctlogs', i))),
  };
}

/** Whether `sig` is the log's signature over `data` (a SET payload, a checkpoint). */
export function signedBy(log: TrustedLog, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return verify(log.hash, data, log.key, sig);
  } catch {
    return false;
  }
}

export function inRange(r: TimeRange, ms: number): boolean {
  return r.start <= ms && ms <= r.end;
}
