// The transparency log entry body must describe the very signature the bundle carries. Rekor v1 body types
// (sigstore/rekor pkg/types): hashedrekord v0.0.1 (artifact digest, signature, signer PEM), dsse v0.0.1 (payload
// hash, signatures with verifier PEM) and intoto v0.0.2 (envelope with double-base64 signatures, payload hash).
// Rekor v2 (sigstore/architecture-docs rekor-v2-spec.md, protobuf-specs rekor/v2 entry.proto): hashedrekord
// v0.0.2 (also used for DSSE, over SHA-256 of the PAE, §6.1.4) and dsse v0.0.2, with DER verifiers.
// Rekor does not store the payload itself, so envelopeHash / content.hash cannot be recomputed here: the payload
// hash, signature and signer together bind the entry to the bundle.
import { createHash } from 'node:crypto';
import {
  type Bundle,
  type DsseContent,
  type MessageSignature,
  preAuthEncoding,
  type TransparencyLogEntry,
  V2_HASH_NAMES,
  type V2Hash,
} from '../formats/index.js';
import { fail } from './errors.js';

/** Who signed, as bytes to compare against the PEM a log entry stores. */
export interface SignerMaterial {
  /** DER of the leaf certificate, when signing was keyless. */
  certificate?: Buffer;
  /** DER SubjectPublicKeyInfo of the signing key. */
  spki: Buffer;
}

// Entry bodies are read defensively with optional chaining; every field read is type-checked where used.
// biome-ignore lint/suspicious/noExplicitAny: untrusted JSON walked with ?. and checked value by value
type Json = Record<string, any>;

function mismatch(entry: TransparencyLogEntry, what: string): never {
  fail('TLOG_BODY_MISMATCH', `transparency log entry ${entry.logIndex} (${entry.kind}): ${what}`);
}

function b64(v: unknown): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.alloc(0);
}

/** Checks the PEM stored in the entry names the bundle's signer (certificate, or bare public key). */
function checkSigner(entry: TransparencyLogEntry, pemB64: unknown, signer: SignerMaterial): void {
  const pem = b64(pemB64).toString('utf8');
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) mismatch(entry, 'signer key in the entry is not PEM');
  const der = Buffer.from(m[2].replace(/\s+/g, ''), 'base64');
  const ok =
    m[1] === 'CERTIFICATE'
      ? signer.certificate !== undefined && der.equals(signer.certificate)
      : m[1] === 'PUBLIC KEY' && der.equals(signer.spki);
  if (!ok) mismatch(entry, `the ${m[1].toLowerCase()} in the entry is not the bundle's signer`);
}

function hexDigestEquals(value: unknown, expected: Buffer): boolean {
  return typeof value === 'string' && value.toLowerCase() === expected.toString('hex');
}

export function checkTlogBody(
  entry: TransparencyLogEntry,
  body: Json,
  bundle: Bundle,
  signer: SignerMaterial,
  artifactDigest: { algorithm: string; value: Buffer } | undefined,
): void {
  if (body?.kind !== entry.kind || body?.apiVersion !== entry.version) {
    mismatch(
      entry,
      `body is ${body?.kind}/${body?.apiVersion} but kindVersion says ${entry.kind}/${entry.version}`,
    );
  }
  const content = bundle.content;
  const key = `${entry.kind}/${entry.version}`;
  if (content.kind === 'messageSignature') {
    if (key === 'hashedrekord/0.0.1') checkHashedRekord(entry, body.spec, content, signer, artifactDigest);
    else if (key === 'hashedrekord/0.0.2')
      checkHashedRekordV2Message(entry, body.spec, content, signer, artifactDigest);
    else mismatch(entry, `a message signature cannot be logged as ${key}`);
    return;
  }
  if (key === 'dsse/0.0.1') checkDsse(entry, body.spec, content, signer);
  else if (key === 'hashedrekord/0.0.2') checkHashedRekordV2Dsse(entry, body.spec, content, signer);
  else if (key === 'dsse/0.0.2') checkDsseV2(entry, body.spec, content, signer);
  else if (key === 'intoto/0.0.2') checkIntoto(entry, body.spec, content, signer);
  else mismatch(entry, `a DSSE envelope cannot be logged as ${key}`);
}

/** Rekor v2 verifier: {publicKey: {rawBytes: SPKI}} or {x509Certificate: {rawBytes: DER}}. */
function checkSignerV2(
  entry: TransparencyLogEntry,
  verifier: Json | undefined,
  signer: SignerMaterial,
): void {
  const cert = verifier?.x509Certificate?.rawBytes;
  const key = verifier?.publicKey?.rawBytes;
  const ok =
    cert !== undefined
      ? signer.certificate !== undefined && b64(cert).equals(signer.certificate)
      : key !== undefined && b64(key).equals(signer.spki);
  if (!ok) mismatch(entry, "the verifier in the entry is not the bundle's signer");
}

function checkHashedRekordV2Message(
  entry: TransparencyLogEntry,
  spec: Json,
  content: MessageSignature,
  signer: SignerMaterial,
  artifactDigest: { algorithm: string; value: Buffer } | undefined,
): void {
  const v2 = spec?.hashedRekordV002;
  if (!b64(v2?.signature?.content).equals(content.signature))
    mismatch(entry, 'signature differs from the bundle');
  checkSignerV2(entry, v2?.signature?.verifier, signer);
  const digest = b64(v2?.data?.digest);
  if (content.messageDigest && !digest.equals(content.messageDigest.digest)) {
    mismatch(entry, "logged artifact digest differs from the bundle's message digest");
  }
  if (
    artifactDigest &&
    (!digest.equals(artifactDigest.value) ||
      v2?.data?.algorithm !== V2_HASH_NAMES[artifactDigest.algorithm as V2Hash])
  ) {
    mismatch(
      entry,
      `logged artifact digest ${v2?.data?.algorithm}:${digest.toString('hex')} is not the artifact's`,
    );
  }
}

function checkHashedRekordV2Dsse(
  entry: TransparencyLogEntry,
  spec: Json,
  content: DsseContent,
  signer: SignerMaterial,
): void {
  const v2 = spec?.hashedRekordV002;
  const env = content.envelope;
  if (!b64(v2?.signature?.content).equals(env.signatures[0].sig))
    mismatch(entry, 'signature differs from the envelope');
  checkSignerV2(entry, v2?.signature?.verifier, signer);
  const pae = createHash('sha256').update(preAuthEncoding(env.payloadType, env.payload)).digest();
  if (v2?.data?.algorithm !== 'SHA2_256' || !b64(v2?.data?.digest).equals(pae)) {
    mismatch(entry, 'logged digest is not the SHA-256 of the envelope pre-authentication encoding');
  }
}

function checkDsseV2(
  entry: TransparencyLogEntry,
  spec: Json,
  content: DsseContent,
  signer: SignerMaterial,
): void {
  const v2 = spec?.dsseV002;
  const sigs = v2?.signatures;
  if (!Array.isArray(sigs) || sigs.length !== 1) mismatch(entry, 'entry must hold exactly one signature');
  if (!b64(sigs[0]?.content).equals(content.envelope.signatures[0].sig))
    mismatch(entry, 'signature differs from the envelope');
  checkSignerV2(entry, sigs[0]?.verifier, signer);
  const digest = createHash('sha256').update(content.envelope.payload).digest();
  if (v2?.payloadHash?.algorithm !== 'SHA2_256' || !b64(v2?.payloadHash?.digest).equals(digest)) {
    mismatch(entry, 'payload hash differs from the envelope payload');
  }
}

function checkHashedRekord(
  entry: TransparencyLogEntry,
  spec: Json,
  content: MessageSignature,
  signer: SignerMaterial,
  artifactDigest: { algorithm: string; value: Buffer } | undefined,
): void {
  if (!b64(spec?.signature?.content).equals(content.signature))
    mismatch(entry, 'signature differs from the bundle');
  checkSigner(entry, spec?.signature?.publicKey?.content, signer);
  const hash = spec?.data?.hash;
  if (content.messageDigest && !hexDigestEquals(hash?.value, content.messageDigest.digest)) {
    mismatch(entry, `artifact digest ${hash?.value} differs from the bundle's message digest`);
  }
  if (artifactDigest) {
    if (hash?.algorithm !== artifactDigest.algorithm || !hexDigestEquals(hash?.value, artifactDigest.value)) {
      mismatch(entry, `logged artifact digest ${hash?.algorithm}:${hash?.value} is not the artifact's`);
    }
  }
}

function checkDsse(
  entry: TransparencyLogEntry,
  spec: Json,
  content: DsseContent,
  signer: SignerMaterial,
): void {
  const sigs = spec?.signatures;
  if (!Array.isArray(sigs) || sigs.length !== 1) mismatch(entry, 'entry must hold exactly one signature');
  if (!b64(sigs[0]?.signature).equals(content.envelope.signatures[0].sig)) {
    mismatch(entry, 'signature differs from the envelope');
  }
  checkSigner(entry, sigs[0]?.verifier, signer);
  checkPayloadHash(entry, spec?.payloadHash, content);
}

function checkIntoto(
  entry: TransparencyLogEntry,
  spec: Json,
  content: DsseContent,
  signer: SignerMaterial,
): void {
  const env = spec?.content?.envelope;
  if (env?.payloadType !== content.envelope.payloadType)
    mismatch(entry, 'payload type differs from the envelope');
  const sigs = env?.signatures;
  if (!Array.isArray(sigs) || sigs.length !== 1) mismatch(entry, 'entry must hold exactly one signature');
  // intoto v0.0.2 stores the signature base64-encoded twice.
  if (!b64(b64(sigs[0]?.sig).toString('utf8')).equals(content.envelope.signatures[0].sig)) {
    mismatch(entry, 'signature differs from the envelope');
  }
  checkSigner(entry, sigs[0]?.publicKey, signer);
  checkPayloadHash(entry, spec?.content?.payloadHash, content);
}

function checkPayloadHash(
  entry: TransparencyLogEntry,
  payloadHash: Json | undefined,
  content: DsseContent,
): void {
  if (payloadHash?.algorithm !== 'sha256')
    mismatch(entry, `unsupported payload hash ${payloadHash?.algorithm}`);
  const digest = createHash('sha256').update(content.envelope.payload).digest();
  if (!hexDigestEquals(payloadHash?.value, digest))
    mismatch(entry, 'payload hash differs from the envelope payload');
}
