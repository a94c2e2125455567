// RFC 3161 Time-Stamp Protocol messages, both sides: the TimeStampReq a client sends (§2.4.1), read with pkijs
// (the TSP structures are a library's job, not another hand-written reader), and the TimeStampResp a TSA answers
// (§2.4.2): a CMS SignedData (RFC 5652 §5) over a TSTInfo, with the ESS signing-certificate-v2 attribute
// (RFC 5816 §2.2.1) naming the TSA's certificate. The response is written with der.ts's writer, the one the CA
// writes certificates with, so a timestamp costs one signature and a few small buffers.
// The verifier's reading of tokens is verify/timestamp.ts.
import { createHash } from 'node:crypto';
import type * as Asn1js from 'asn1js';
import type * as Pkijs from 'pkijs';
import {
  boolean,
  explicit,
  NULL,
  octetString,
  oid,
  seq,
  set,
  smallInteger,
  TAG,
  time,
  tlv,
  unsignedInteger,
} from './der.js';

/**
 * pkijs and asn1js, loaded on first use: most `sigil` commands read no timestamp, and evaluating these two
 * (~800 KB of the client bundle) was a third of a `sigil verify`'s start-up (bench/cli).
 */
let tspLibraries: Promise<{ asn1js: typeof Asn1js; pkijs: typeof Pkijs }> | undefined;
const loadTspLibraries = () =>
  (tspLibraries ??= Promise.all([import('asn1js'), import('pkijs')]).then(([asn1js, pkijs]) => ({
    asn1js,
    pkijs,
  })));

export const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_SIGNING_TIME = '1.2.840.113549.1.9.5';
const OID_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';
export const OID_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

/** The message-imprint hashes a TSA accepts (SHA-1 is refused as weak, as sigstore's TSA does). */
export const TIMESTAMP_HASHES = {
  sha256: { oid: '2.16.840.1.101.3.4.2.1', length: 32 },
  sha384: { oid: '2.16.840.1.101.3.4.2.2', length: 48 },
  sha512: { oid: '2.16.840.1.101.3.4.2.3', length: 64 },
} as const;
export type TimestampHash = keyof typeof TIMESTAMP_HASHES;
const SHA1_OID = '1.3.14.3.2.26';

export function timestampHashByOid(dotted: string): TimestampHash | undefined {
  for (const [name, h] of Object.entries(TIMESTAMP_HASHES))
    if (h.oid === dotted) return name as TimestampHash;
  return undefined;
}

/** PKIFailureInfo bits (RFC 3161 §2.4.2) a TSA answers a refused request with. */
export const FAILURE_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;
export type TimestampFailure = keyof typeof FAILURE_BITS;

/** A request the TSA refuses: `failure` is the PKIFailureInfo it answers with, `message` its statusString. */
export class TimestampRequestError extends Error {
  constructor(
    readonly failure: TimestampFailure,
    message: string,
  ) {
    super(message);
  }
}

/** The largest nonce echoed back: RFC 3161 leaves its size open; 64-bit nonces are usual, 160 bits generous. */
export const MAX_NONCE_BYTES = 20;

export interface TimestampRequest {
  hashAlgorithm: TimestampHash;
  hashedMessage: Buffer;
  /** reqPolicy, when the client asked for one. */
  policy?: string;
  /** The nonce INTEGER's content octets (two's complement), echoed back as sent. */
  nonce?: Buffer;
  certReq: boolean;
}

/**
 * Reads a DER TimeStampReq and checks what RFC 3161 §2.4.1 asks a TSA to check; throws TimestampRequestError
 * naming the failure. `acceptedPolicies` are the reqPolicy values this TSA honours.
 */
export async function parseTimestampRequest(
  der: Uint8Array,
  acceptedPolicies: readonly string[],
): Promise<TimestampRequest> {
  const { asn1js, pkijs } = await loadTspLibraries();
  const view = new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
  const asn1 = asn1js.fromBER(view);
  if (asn1.offset === -1) throw new TimestampRequestError('badDataFormat', `not DER: ${asn1.result.error}`);
  if (asn1.offset !== view.byteLength)
    throw new TimestampRequestError(
      'badDataFormat',
      `${view.byteLength - asn1.offset} bytes after the request`,
    );
  // asn1js reads a BOOLEAN of any length; X.690 §8.2.1 allows exactly one octet.
  const fields = asn1.result instanceof asn1js.Sequence ? asn1.result.valueBlock.value : [];
  if (fields.some((f) => f instanceof asn1js.Boolean && f.valueBlock.valueHexView.length !== 1))
    throw new TimestampRequestError('badDataFormat', 'certReq must be a one-octet BOOLEAN');
  let req: Pkijs.TimeStampReq;
  try {
    req = new pkijs.TimeStampReq({ schema: asn1.result });
  } catch {
    throw new TimestampRequestError('badDataFormat', 'not a TimeStampReq (RFC 3161 §2.4.1)');
  }
  if (req.version !== 1)
    throw new TimestampRequestError('badDataFormat', `TimeStampReq version ${req.version}, expected 1`);
  const algId = req.messageImprint.hashAlgorithm.algorithmId;
  const params = req.messageImprint.hashAlgorithm.algorithmParams;
  const hashAlgorithm = timestampHashByOid(algId);
  if (!hashAlgorithm) {
    const why = algId === SHA1_OID ? 'SHA-1 is too weak' : 'it is not sha256, sha384 or sha512';
    throw new TimestampRequestError('badAlg', `message imprint hash algorithm ${algId} is refused: ${why}`);
  }
  // AlgorithmIdentifier parameters for SHA-2 are absent or NULL (RFC 5754 §2).
  if (params !== undefined && !(params instanceof asn1js.Null))
    throw new TimestampRequestError('badAlg', `${hashAlgorithm} takes no parameters`);
  return checkedRequest({
    hashAlgorithm,
    hashedMessage: Buffer.from(req.messageImprint.hashedMessage.valueBlock.valueHexView),
    policy: req.reqPolicy,
    nonce: req.nonce ? Buffer.from(req.nonce.valueBlock.valueHexView) : undefined,
    certReq: req.certReq === true,
    extensions: req.extensions?.length ?? 0,
    acceptedPolicies,
  });
}

/** The checks both request forms (DER and sigstore's JSON) share. */
export function checkedRequest(
  r: TimestampRequest & { extensions: number; acceptedPolicies: readonly string[] },
) {
  const want = TIMESTAMP_HASHES[r.hashAlgorithm].length;
  if (r.hashedMessage.length !== want)
    throw new TimestampRequestError(
      'badDataFormat',
      `message imprint is ${r.hashedMessage.length} bytes, ${r.hashAlgorithm} gives ${want}`,
    );
  if (r.policy !== undefined && !r.acceptedPolicies.includes(r.policy))
    throw new TimestampRequestError(
      'unacceptedPolicy',
      `policy ${r.policy} is not one this TSA uses (${r.acceptedPolicies.join(', ')})`,
    );
  if (r.extensions > 0)
    throw new TimestampRequestError('unacceptedExtension', 'request extensions are not accepted');
  if (r.nonce !== undefined && (r.nonce.length === 0 || r.nonce.length > MAX_NONCE_BYTES))
    throw new TimestampRequestError('badDataFormat', `nonce must be 1 to ${MAX_NONCE_BYTES} bytes`);
  const out: TimestampRequest = {
    hashAlgorithm: r.hashAlgorithm,
    hashedMessage: r.hashedMessage,
    certReq: r.certReq,
  };
  if (r.policy !== undefined) out.policy = r.policy;
  if (r.nonce !== undefined) out.nonce = r.nonce;
  return out;
}

/** A TimeStampReq in DER, for clients (sign/). */
export function encodeTimestampRequest(r: TimestampRequest): Buffer {
  const imprint = seq(seq(oid(TIMESTAMP_HASHES[r.hashAlgorithm].oid)), octetString(r.hashedMessage));
  return seq(
    smallInteger(1),
    imprint,
    ...(r.policy ? [oid(r.policy)] : []),
    ...(r.nonce ? [tlv(TAG.INTEGER, r.nonce)] : []),
    ...(r.certReq ? [boolean(true)] : []),
  );
}

/** What the TSA puts in one token; `signer` signs the DER signed attributes (SHA-256 over them, ECDSA/RSA). */
export interface TstInfoFields {
  policy: string;
  request: TimestampRequest;
  /** Positive, unique per token (RFC 3161 §2.4.2): the TSA picks it. */
  serialNumber: Buffer;
  genTime: Date;
  /** Accuracy in whole seconds. */
  accuracySeconds: number;
}

/**
 * genTime in whole seconds, as sigstore's TSA sends it (Go's GeneralizedTime): the accuracy is a second anyway, and
 * clients read fractions differently (RFC 3161 §2.4.2 drops trailing zeros, sigstore-js reads only exactly three
 * digits), so a fraction would make some timestamps unreadable to some clients.
 */
function generalizedTime(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-12-06T21:10:00.123Z
  const text = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(text, 'ascii'));
}

export function encodeTstInfo(f: TstInfoFields): Buffer {
  const r = f.request;
  return seq(
    smallInteger(1),
    oid(f.policy),
    seq(seq(oid(TIMESTAMP_HASHES[r.hashAlgorithm].oid)), octetString(r.hashedMessage)),
    unsignedInteger(f.serialNumber),
    generalizedTime(f.genTime),
    seq(smallInteger(f.accuracySeconds)),
    ...(r.nonce ? [tlv(TAG.INTEGER, r.nonce)] : []),
  );
}

/** The TSA's signing certificate as the token names it. */
export interface TsaCertificate {
  der: Buffer;
  /** DER of the certificate's issuer Name and its serial number's content octets. */
  issuer: Buffer;
  serialNumber: Buffer;
  /** AlgorithmIdentifier DER of the TSA key's signature algorithm over SHA-256 (ecdsa-with-SHA256, …). */
  signatureAlgorithm: Buffer;
}

const SHA256_ALG = seq(oid(TIMESTAMP_HASHES.sha256.oid), NULL);

/**
 * The signed attributes (RFC 5652 §5.3): content type, message digest of the TSTInfo, signing time and the
 * ESSCertIDv2 of the TSA certificate (its SHA-256 hash with issuer and serial: RFC 5816 §2.2.1; SHA-256 is the
 * default hashAlgorithm, so it is left out). As a DER SET: the bytes the signature covers.
 */
export function encodeSignedAttributes(tstInfo: Buffer, cert: TsaCertificate, genTime: Date): Buffer {
  const attr = (type: string, value: Buffer) => seq(oid(type), set(value));
  const issuerSerial = seq(seq(explicit(4, cert.issuer)), tlv(TAG.INTEGER, cert.serialNumber));
  const essCertIdV2 = seq(octetString(createHash('sha256').update(cert.der).digest()), issuerSerial);
  // DER orders a SET OF by its encodings (X.690 §11.6); the four attributes start with OIDs of equal length
  // but differing last arcs, so sorting their encodings is cheap.
  const attrs = [
    attr(OID_CONTENT_TYPE, oid(OID_TST_INFO)),
    // UTCTime until 2050 (RFC 5652 §11.3).
    attr(OID_SIGNING_TIME, time(genTime)),
    attr(OID_MESSAGE_DIGEST, octetString(createHash('sha256').update(tstInfo).digest())),
    attr(OID_SIGNING_CERTIFICATE_V2, seq(seq(essCertIdV2))),
  ].sort(Buffer.compare);
  return set(...attrs);
}

/** A granted TimeStampResp around the SignedData; `certificates` go in when the request set certReq. */
export function encodeTimestampResponse(
  tstInfo: Buffer,
  signedAttrs: Buffer,
  signature: Buffer,
  cert: TsaCertificate,
  certReq: boolean,
): Buffer {
  const signerInfo = seq(
    smallInteger(1),
    seq(cert.issuer, tlv(TAG.INTEGER, cert.serialNumber)),
    SHA256_ALG,
    // The same bytes, [0] IMPLICIT in place of the SET tag.
    Buffer.concat([Buffer.from([0xa0]), signedAttrs.subarray(1)]),
    cert.signatureAlgorithm,
    octetString(signature),
  );
  const signedData = seq(
    smallInteger(3),
    set(SHA256_ALG),
    seq(oid(OID_TST_INFO), explicit(0, octetString(tstInfo))),
    ...(certReq ? [Buffer.concat([Buffer.from([0xa0]), set(cert.der).subarray(1)])] : []),
    set(signerInfo),
  );
  const token = seq(oid(OID_SIGNED_DATA), explicit(0, signedData));
  return seq(seq(smallInteger(0)), token);
}

/** A refused TimeStampResp: status rejection (2), the reason as statusString, the failure bit (§2.4.2). */
export function encodeTimestampRejection(failure: TimestampFailure, message: string): Buffer {
  const bit = FAILURE_BITS[failure];
  const bytes = Buffer.alloc(Math.floor(bit / 8) + 1);
  bytes[Math.floor(bit / 8)] = 0x80 >> (bit % 8);
  const unused = 7 - (bit % 8);
  const failInfo = tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unused]), bytes]));
  return seq(seq(smallInteger(2), seq(utf8Text(message)), failInfo));
}

function utf8Text(s: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(s.slice(0, 512), 'utf8'));
}

export interface TimestampResponseStatus {
  status: number;
  statusString?: string;
  /** The token's TSTInfo fields a client checks against its request, when granted. */
  info?: TimestampInfo;
  /** The TimeStampToken (ContentInfo) DER, when granted: what a Sigstore bundle's signedTimestamp holds. */
  token?: Buffer;
}

/** Reads a TimeStampResp's status and token (clients: sign/), with pkijs. */
export async function parseTimestampResponse(der: Uint8Array): Promise<TimestampResponseStatus> {
  const { asn1js, pkijs } = await loadTspLibraries();
  const view = new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
  const asn1 = asn1js.fromBER(view);
  if (asn1.offset === -1 || asn1.offset !== view.byteLength) throw new Error('timestamp response is not DER');
  const resp = new pkijs.TimeStampResp({ schema: asn1.result });
  const out: TimestampResponseStatus = { status: resp.status.status };
  const text = resp.status.statusStrings?.map((s) => s.valueBlock.value).join('; ');
  if (text) out.statusString = text;
  // The token's bytes as the TSA sent them (a re-encoding could differ from what was signed over).
  const tokenBlock = (asn1.result as Asn1js.Sequence).valueBlock.value[1];
  if (resp.timeStampToken && tokenBlock) {
    out.token = Buffer.from(tokenBlock.valueBeforeDecodeView);
    out.info = tstInfoOf(resp.timeStampToken, pkijs);
  }
  return out;
}

export interface TimestampInfo {
  genTime: Date;
  imprint: Buffer;
  nonce?: Buffer;
  policy: string;
}

/** The TSTInfo fields a client checks against its request, from a token pkijs has read (ContentInfo → SignedData → TSTInfo). */
function tstInfoOf(info: Pkijs.ContentInfo, pkijs: typeof Pkijs): TimestampInfo {
  if (info.contentType !== OID_SIGNED_DATA) throw new Error('timestamp token is not CMS SignedData');
  const signed = new pkijs.SignedData({ schema: info.content });
  const eContent = signed.encapContentInfo.eContent;
  if (signed.encapContentInfo.eContentType !== OID_TST_INFO || !eContent)
    throw new Error('timestamp token does not hold a TSTInfo');
  const tst = pkijs.TSTInfo.fromBER(eContent.getValue());
  const out: TimestampInfo = {
    genTime: tst.genTime,
    imprint: Buffer.from(tst.messageImprint.hashedMessage.valueBlock.valueHexView),
    policy: tst.policy,
  };
  if (tst.nonce) out.nonce = Buffer.from(tst.nonce.valueBlock.valueHexView);
  return out;
}
