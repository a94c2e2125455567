// Rekor v2 entries (sigstore/rekor-tiles api/proto/rekor/v2: entry.proto, hashedrekord.proto, dsse.proto,
// verifier.proto; protobuf-specs common.proto PublicKeyDetails), in their protojson form, both sides: the
// CreateEntryRequest a client posts to /api/v2/log/entries and the Entry the log appends as its leaf, the RFC 8785
// canonical JSON of the protojson encoding (what rekor-tiles appends and what verifiers rebuild from a bundle to
// recompute the leaf hash, so it must be byte for byte the same). Signature checks are the log's (log/rekor).
import canonicalize from 'canonicalize';
import {
  decodeBase64,
  expectArray,
  expectObject,
  expectString,
  FormatError,
  type JsonObject,
  onlyKeys,
} from './rekor-entry.js';

export const REKOR_V2_API_VERSION = '0.0.2';

export type V2Hash = 'sha256' | 'sha384' | 'sha512';
/** protobuf-specs HashAlgorithm names of the hashes a v2 entry records. */
export const V2_HASH_NAMES: Record<V2Hash, string> = {
  sha256: 'SHA2_256',
  sha384: 'SHA2_384',
  sha512: 'SHA2_512',
};
const HASH_BYTES: Record<V2Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** What a PublicKeyDetails value says about the key and how it signs (protobuf-specs common.proto). */
export interface KeyDetails {
  name: string;
  type: 'ecdsa' | 'rsa-pkcs1v15' | 'rsa-pss' | 'ed25519' | 'ed25519ph';
  /** ECDSA curve or RSA modulus bits. */
  curve?: 'P-256' | 'P-384' | 'P-521';
  bits?: number;
  /** The digest the signature is over; none for pure Ed25519, which signs the message itself. */
  hash?: V2Hash;
}

const DETAILS: KeyDetails[] = [
  { name: 'PKIX_ECDSA_P256_SHA_256', type: 'ecdsa', curve: 'P-256', hash: 'sha256' },
  { name: 'PKIX_ECDSA_P384_SHA_384', type: 'ecdsa', curve: 'P-384', hash: 'sha384' },
  { name: 'PKIX_ECDSA_P521_SHA_512', type: 'ecdsa', curve: 'P-521', hash: 'sha512' },
  { name: 'PKIX_RSA_PKCS1V15_2048_SHA256', type: 'rsa-pkcs1v15', bits: 2048, hash: 'sha256' },
  { name: 'PKIX_RSA_PKCS1V15_3072_SHA256', type: 'rsa-pkcs1v15', bits: 3072, hash: 'sha256' },
  { name: 'PKIX_RSA_PKCS1V15_4096_SHA256', type: 'rsa-pkcs1v15', bits: 4096, hash: 'sha256' },
  { name: 'PKIX_RSA_PSS_2048_SHA256', type: 'rsa-pss', bits: 2048, hash: 'sha256' },
  { name: 'PKIX_RSA_PSS_3072_SHA256', type: 'rsa-pss', bits: 3072, hash: 'sha256' },
  { name: 'PKIX_RSA_PSS_4096_SHA256', type: 'rsa-pss', bits: 4096, hash: 'sha256' },
  { name: 'PKIX_ED25519', type: 'ed25519' },
  { name: 'PKIX_ED25519_PH', type: 'ed25519ph', hash: 'sha512' },
];
const BY_NAME = new Map(DETAILS.map((d) => [d.name, d]));

export function keyDetails(name: string): KeyDetails | undefined {
  return BY_NAME.get(name);
}

/** A v2 verifier: the DER public key or certificate, and how it signs. */
export interface V2Verifier {
  der: Buffer;
  certificate: boolean;
  keyDetails: KeyDetails;
}

export interface HashedRekordRequestV002 {
  kind: 'hashedrekord';
  digest: Buffer;
  signature: Buffer;
  verifier: V2Verifier;
}

export interface DsseRequestV002 {
  kind: 'dsse';
  envelope: { payloadType: string; payload: Buffer; signatures: { sig: Buffer; keyid: string }[] };
  verifiers: V2Verifier[];
}

export type CreateEntryRequestV2 = HashedRekordRequestV002 | DsseRequestV002;

function parseVerifier(v: unknown, path: string): V2Verifier {
  const o = expectObject(v, path);
  onlyKeys(o, ['publicKey', 'x509Certificate', 'keyDetails'], path);
  if ((o.publicKey === undefined) === (o.x509Certificate === undefined))
    throw new FormatError(`${path} must hold exactly one of publicKey and x509Certificate`);
  const certificate = o.x509Certificate !== undefined;
  const field = certificate ? 'x509Certificate' : 'publicKey';
  const holder = expectObject(o[field], `${path}.${field}`);
  onlyKeys(holder, ['rawBytes'], `${path}.${field}`);
  const der = decodeBase64(holder.rawBytes, `${path}.${field}.rawBytes`);
  const name = expectString(o.keyDetails, `${path}.keyDetails`);
  const details = keyDetails(name);
  if (!details) throw new FormatError(`${path}.keyDetails "${name}" is not a PublicKeyDetails value`);
  return { der, certificate, keyDetails: details };
}

/** Parses a CreateEntryRequest (protojson, lowerCamelCase names), strictly: unknown fields are refused. */
export function parseCreateEntryRequestV2(json: unknown): CreateEntryRequestV2 {
  const o = expectObject(json, 'request');
  onlyKeys(o, ['hashedRekordRequestV002', 'dsseRequestV002'], 'request');
  if (Object.keys(o).length !== 1)
    throw new FormatError('request must hold exactly one of hashedRekordRequestV002 and dsseRequestV002');
  if (o.hashedRekordRequestV002 !== undefined) {
    const path = 'hashedRekordRequestV002';
    const hr = expectObject(o.hashedRekordRequestV002, path);
    onlyKeys(hr, ['digest', 'signature'], path);
    const digest = decodeBase64(hr.digest, `${path}.digest`);
    const sig = expectObject(hr.signature, `${path}.signature`);
    onlyKeys(sig, ['content', 'verifier'], `${path}.signature`);
    return {
      kind: 'hashedrekord',
      digest,
      signature: decodeBase64(sig.content, `${path}.signature.content`),
      verifier: parseVerifier(sig.verifier, `${path}.signature.verifier`),
    };
  }
  const path = 'dsseRequestV002';
  const d = expectObject(o.dsseRequestV002, path);
  onlyKeys(d, ['envelope', 'verifiers'], path);
  const env = expectObject(d.envelope, `${path}.envelope`);
  onlyKeys(env, ['payloadType', 'payload', 'signatures'], `${path}.envelope`);
  const signatures = expectArray(env.signatures, `${path}.envelope.signatures`).map((s, i) => {
    const p = `${path}.envelope.signatures[${i}]`;
    const so = expectObject(s, p);
    onlyKeys(so, ['sig', 'keyid'], p);
    return {
      sig: decodeBase64(so.sig, `${p}.sig`),
      keyid: so.keyid === undefined ? '' : expectString(so.keyid, `${p}.keyid`),
    };
  });
  if (signatures.length === 0) throw new FormatError(`${path}.envelope.signatures must not be empty`);
  const verifiers = expectArray(d.verifiers, `${path}.verifiers`).map((v, i) =>
    parseVerifier(v, `${path}.verifiers[${i}]`),
  );
  if (verifiers.length === 0) throw new FormatError(`${path}.verifiers must not be empty`);
  return {
    kind: 'dsse',
    envelope: {
      payloadType: expectString(env.payloadType, `${path}.envelope.payloadType`),
      payload: decodeBase64(env.payload, `${path}.envelope.payload`),
      signatures,
    },
    verifiers,
  };
}

/** Checks the digest length against the hash the key details name. */
export function checkV2Digest(digest: Buffer, details: KeyDetails, path = 'digest'): V2Hash {
  if (!details.hash)
    throw new FormatError(
      `${details.name} signs the message itself, not a digest; hashedrekord needs a prehashed signature (PKIX_ED25519_PH for Ed25519 keys)`,
    );
  if (digest.length !== HASH_BYTES[details.hash])
    throw new FormatError(
      `${path} is ${digest.length} bytes; ${details.name} signs a ${details.hash} digest of ${HASH_BYTES[details.hash]} bytes`,
    );
  return details.hash;
}

function verifierJson(v: V2Verifier): JsonObject {
  const raw = { rawBytes: v.der.toString('base64') };
  return {
    ...(v.certificate ? { x509Certificate: raw } : { publicKey: raw }),
    keyDetails: v.keyDetails.name,
  };
}

/** The hashedrekord v0.0.2 Entry, canonical: the log's leaf. */
export function hashedRekordV002Body(r: HashedRekordRequestV002, hash: V2Hash): Buffer {
  return Buffer.from(
    canonicalize({
      kind: 'hashedrekord',
      apiVersion: REKOR_V2_API_VERSION,
      spec: {
        hashedRekordV002: {
          data: { algorithm: V2_HASH_NAMES[hash], digest: r.digest.toString('base64') },
          signature: { content: r.signature.toString('base64'), verifier: verifierJson(r.verifier) },
        },
      },
    }) as string,
  );
}

/** The dsse v0.0.2 Entry, canonical: payload hash and each signature with the verifier that checked it. */
export function dsseV002Body(payloadSha256: Buffer, signed: { sig: Buffer; verifier: V2Verifier }[]): Buffer {
  return Buffer.from(
    canonicalize({
      kind: 'dsse',
      apiVersion: REKOR_V2_API_VERSION,
      spec: {
        dsseV002: {
          payloadHash: { algorithm: 'SHA2_256', digest: payloadSha256.toString('base64') },
          signatures: signed.map((s) => ({
            content: s.sig.toString('base64'),
            verifier: verifierJson(s.verifier),
          })),
        },
      },
    }) as string,
  );
}

/** A client's hashedrekord v0.0.2 request (sign/): a signature over `digest` and the signer's DER. */
export function hashedRekordRequestV2(digest: Buffer, signature: Buffer, verifier: V2Verifier): JsonObject {
  return {
    hashedRekordRequestV002: {
      digest: digest.toString('base64'),
      signature: { content: signature.toString('base64'), verifier: verifierJson(verifier) },
    },
  };
}
