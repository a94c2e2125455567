// Sigstore bundles (sigstore/protobuf-specs protos/sigstore_bundle.proto, sigstore_rekor.proto, in their proto3
// JSON mapping): a strict reader that turns the JSON into typed values with decoded bytes, rejecting anything
// malformed with the JSON path of the problem. Versions 0.1, 0.2 and 0.3 (both media type spellings).
import type { DsseEnvelope } from './dsse-envelope.js';

export class BundleFormatError extends Error {
  constructor(message: string) {
    super(`invalid bundle: ${message}`);
    this.name = 'BundleFormatError';
  }
}

export type BundleVersion = '0.1' | '0.2' | '0.3';

const MEDIA_TYPES: Record<string, BundleVersion> = {
  'application/vnd.dev.sigstore.bundle+json;version=0.1': '0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2': '0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3': '0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json': '0.3',
};

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export type VerificationMaterialContent =
  | { kind: 'x509CertificateChain'; certificates: Buffer[] }
  | { kind: 'certificate'; certificate: Buffer }
  | { kind: 'publicKey'; hint: string };

export interface InclusionProof {
  logIndex: number;
  rootHash: Buffer;
  treeSize: number;
  hashes: Buffer[];
  /** Signed checkpoint; only v0.1 bundles may lack it (their proof is then unauthenticated). */
  checkpoint: string | undefined;
}

export interface TransparencyLogEntry {
  logIndex: number;
  logId: Buffer;
  kind: string;
  version: string;
  /** Seconds since the epoch; 0 when the log gave none (Rekor v2). */
  integratedTime: number;
  signedEntryTimestamp: Buffer | undefined;
  inclusionProof: InclusionProof | undefined;
  canonicalizedBody: Buffer;
}

export interface MessageSignature {
  kind: 'messageSignature';
  messageDigest: { algorithm: string; digest: Buffer } | undefined;
  signature: Buffer;
}

export interface DsseContent {
  kind: 'dsseEnvelope';
  envelope: DsseEnvelope;
}

export interface Bundle {
  mediaType: string;
  version: BundleVersion;
  verificationMaterial: {
    content: VerificationMaterialContent;
    tlogEntries: TransparencyLogEntry[];
    rfc3161Timestamps: Buffer[];
  };
  content: MessageSignature | DsseContent;
}

type Json = Record<string, unknown>;

function obj(v: unknown, path: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new BundleFormatError(`${path} must be an object`);
  return v as Json;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new BundleFormatError(`${path} must be a string`);
  return v;
}

function arr(v: unknown, path: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new BundleFormatError(`${path} must be a list`);
  return v;
}

// proto3 JSON bytes: standard or URL-safe base64, padding optional.
const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;

function bytes(v: unknown, path: string, { nonEmpty = true } = {}): Buffer {
  // Line breaks are ignored, as Go's protojson decoder (base64.StdEncoding) does.
  const s = str(v, path).replace(/[\r\n]/g, '');
  if (!BASE64.test(s)) throw new BundleFormatError(`${path} is not valid base64`);
  const out = Buffer.from(s, 'base64');
  if (nonEmpty && out.length === 0) throw new BundleFormatError(`${path} must not be empty`);
  return out;
}

/**
 * proto3 JSON int64: a decimal string or number; sigil needs it to fit a JS safe integer and be >= 0. A field that
 * is absent holds its default, 0: proto3's JSON mapping omits default values, so Go's protojson (cosign v3,
 * sigstore-go) writes no `logIndex` at all for the log's first entry.
 */
function int64(v: unknown, path: string): number {
  if (v === undefined) return 0;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new BundleFormatError(`${path} must be an integer`);
  if (n < 0) throw new BundleFormatError(`${path} must not be negative (got ${n})`);
  return n;
}

/** A bundle's JSON value, from its text, its bytes, or the value itself. */
export function bundleJson(input: string | Uint8Array | unknown): unknown {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) return input;
  try {
    return JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
  } catch (err) {
    throw new BundleFormatError(`not valid JSON (${(err as Error).message})`);
  }
}

/** Parses a bundle from its JSON text or already-parsed JSON value. */
export function parseBundle(input: string | Uint8Array | unknown): Bundle {
  const b = obj(bundleJson(input), 'bundle');
  const mediaType = str(b.mediaType, 'mediaType');
  const version = MEDIA_TYPES[mediaType];
  if (!version) throw new BundleFormatError(`unsupported mediaType ${JSON.stringify(mediaType)}`);

  const vm = obj(b.verificationMaterial, 'verificationMaterial');
  const content = parseMaterialContent(vm, version);
  const tlogEntries = arr(vm.tlogEntries, 'verificationMaterial.tlogEntries').map((e, i) =>
    parseTlogEntry(e, `verificationMaterial.tlogEntries[${i}]`, version),
  );
  const tsd = vm.timestampVerificationData;
  const rfc3161Timestamps =
    tsd === undefined || tsd === null
      ? []
      : arr(obj(tsd, 'timestampVerificationData').rfc3161Timestamps, 'rfc3161Timestamps').map((t, i) =>
          bytes(obj(t, `rfc3161Timestamps[${i}]`).signedTimestamp, `rfc3161Timestamps[${i}].signedTimestamp`),
        );

  const hasMsg = b.messageSignature !== undefined;
  const hasDsse = b.dsseEnvelope !== undefined;
  if (hasMsg === hasDsse)
    throw new BundleFormatError('exactly one of messageSignature or dsseEnvelope is required');
  return {
    mediaType,
    version,
    verificationMaterial: { content, tlogEntries, rfc3161Timestamps },
    content: hasMsg ? parseMessageSignature(b.messageSignature) : parseDsse(b.dsseEnvelope),
  };
}

function parseMaterialContent(vm: Json, version: BundleVersion): VerificationMaterialContent {
  const present = ['x509CertificateChain', 'certificate', 'publicKey'].filter((k) => vm[k] !== undefined);
  if (present.length !== 1) {
    throw new BundleFormatError(
      'verificationMaterial needs exactly one of x509CertificateChain, certificate, publicKey',
    );
  }
  if (vm.x509CertificateChain !== undefined) {
    // v0.3 replaced the chain with a single leaf certificate (sigstore_bundle.proto).
    if (version === '0.3')
      throw new BundleFormatError('v0.3 bundles must use certificate, not x509CertificateChain');
    const certs = arr(obj(vm.x509CertificateChain, 'x509CertificateChain').certificates, 'certificates').map(
      (c, i) =>
        bytes(obj(c, `certificates[${i}]`).rawBytes, `x509CertificateChain.certificates[${i}].rawBytes`),
    );
    if (certs.length === 0) throw new BundleFormatError('x509CertificateChain.certificates is empty');
    return { kind: 'x509CertificateChain', certificates: certs };
  }
  if (vm.certificate !== undefined) {
    return {
      kind: 'certificate',
      certificate: bytes(obj(vm.certificate, 'certificate').rawBytes, 'certificate.rawBytes'),
    };
  }
  const hint = obj(vm.publicKey, 'publicKey').hint;
  return { kind: 'publicKey', hint: hint === undefined ? '' : str(hint, 'publicKey.hint') };
}

function parseTlogEntry(v: unknown, path: string, version: BundleVersion): TransparencyLogEntry {
  const e = obj(v, path);
  const kv = obj(e.kindVersion, `${path}.kindVersion`);
  const promise =
    e.inclusionPromise === undefined ? undefined : obj(e.inclusionPromise, `${path}.inclusionPromise`);
  const proof = e.inclusionProof === undefined ? undefined : obj(e.inclusionProof, `${path}.inclusionProof`);
  const entry: TransparencyLogEntry = {
    logIndex: int64(e.logIndex, `${path}.logIndex`),
    logId: bytes(obj(e.logId, `${path}.logId`).keyId, `${path}.logId.keyId`),
    kind: str(kv.kind, `${path}.kindVersion.kind`),
    version: str(kv.version, `${path}.kindVersion.version`),
    integratedTime: int64(e.integratedTime, `${path}.integratedTime`),
    signedEntryTimestamp: promise
      ? bytes(promise.signedEntryTimestamp, `${path}.inclusionPromise.signedEntryTimestamp`)
      : undefined,
    inclusionProof: proof ? parseInclusionProof(proof, `${path}.inclusionProof`, version) : undefined,
    canonicalizedBody: bytes(e.canonicalizedBody, `${path}.canonicalizedBody`),
  };
  // v0.1 bundles carry the SET as their proof of inclusion; later versions must carry an inclusion proof with a
  // checkpoint (sigstore_bundle.proto comments on VerificationMaterial).
  if (version === '0.1' && !entry.signedEntryTimestamp) {
    throw new BundleFormatError(`${path}.inclusionPromise is required in a v0.1 bundle`);
  }
  if (version !== '0.1' && !entry.inclusionProof) {
    throw new BundleFormatError(`${path}.inclusionProof is required in a v${version} bundle`);
  }
  return entry;
}

function parseInclusionProof(p: Json, path: string, version: BundleVersion): InclusionProof {
  const checkpoint =
    p.checkpoint === undefined ? undefined : obj(p.checkpoint, `${path}.checkpoint`).envelope;
  if (checkpoint === undefined && version !== '0.1')
    throw new BundleFormatError(`${path}.checkpoint is required`);
  return {
    logIndex: int64(p.logIndex, `${path}.logIndex`),
    rootHash: bytes(p.rootHash, `${path}.rootHash`),
    treeSize: int64(p.treeSize, `${path}.treeSize`),
    hashes: arr(p.hashes, `${path}.hashes`).map((h, i) => bytes(h, `${path}.hashes[${i}]`)),
    checkpoint: checkpoint === undefined ? undefined : str(checkpoint, `${path}.checkpoint.envelope`),
  };
}

const HASH_NAMES = new Set(['SHA2_256', 'SHA2_384', 'SHA2_512', 'SHA3_256', 'SHA3_384']);

function parseMessageSignature(v: unknown): MessageSignature {
  const m = obj(v, 'messageSignature');
  let messageDigest: MessageSignature['messageDigest'];
  if (m.messageDigest !== undefined) {
    const d = obj(m.messageDigest, 'messageSignature.messageDigest');
    const algorithm = str(d.algorithm ?? 'SHA2_256', 'messageSignature.messageDigest.algorithm');
    if (!HASH_NAMES.has(algorithm)) throw new BundleFormatError(`unsupported digest algorithm ${algorithm}`);
    messageDigest = { algorithm, digest: bytes(d.digest, 'messageSignature.messageDigest.digest') };
  }
  return {
    kind: 'messageSignature',
    messageDigest,
    signature: bytes(m.signature, 'messageSignature.signature'),
  };
}

function parseDsse(v: unknown): DsseContent {
  const d = obj(v, 'dsseEnvelope');
  const signatures = arr(d.signatures, 'dsseEnvelope.signatures').map((s, i) => {
    const sig = obj(s, `dsseEnvelope.signatures[${i}]`);
    return {
      keyid: sig.keyid === undefined ? '' : str(sig.keyid, `dsseEnvelope.signatures[${i}].keyid`),
      sig: bytes(sig.sig, `dsseEnvelope.signatures[${i}].sig`),
    };
  });
  if (signatures.length !== 1) {
    throw new BundleFormatError(`dsseEnvelope must carry exactly one signature (has ${signatures.length})`);
  }
  return {
    kind: 'dsseEnvelope',
    envelope: {
      payloadType: str(d.payloadType, 'dsseEnvelope.payloadType'),
      payload: bytes(d.payload, 'dsseEnvelope.payload'),
      signatures,
    },
  };
}

/** proto3 HashAlgorithm name → node:crypto hash name. */
export function hashNameOf(algorithm: string): string {
  return (
    {
      SHA2_256: 'sha256',
      SHA2_384: 'sha384',
      SHA2_512: 'sha512',
      SHA3_256: 'sha3-256',
      SHA3_384: 'sha3-384',
    }[algorithm] ?? 'sha256'
  );
}
