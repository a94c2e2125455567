// Signed Certificate Timestamps, RFC 6962 §3.2–§3.3: the data a log signs for a precertificate, the TLS
// encoding of an SCT, the SignedCertificateTimestampList X.509 extension the CA embeds, and the JSON form the
// add-pre-chain endpoint returns (§4.1). Clients (sigstore-js verifySCTs) rebuild the signed data from the final
// certificate minus this extension, so the bytes here must match RFC 6962 exactly.
import { octetString } from '../formats/index.js';

const SCT_VERSION_V1 = 0;
const SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP = 0;
const LOG_ENTRY_TYPE_PRECERT = 1;
/** RFC 5246 §7.4.1.4.1: HashAlgorithm sha256(4); SignatureAlgorithm ecdsa(3). */
const HASH_SHA256 = 4;
const SIG_ECDSA = 3;

export interface Sct {
  /** SHA-256 of the log's DER SubjectPublicKeyInfo. */
  logId: Buffer;
  /** Milliseconds since the epoch. */
  timestamp: number;
  extensions: Buffer;
  /** DER ECDSA signature over the signed data. */
  signature: Buffer;
}

function uint(value: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  out.writeUIntBE(value, 0, bytes);
  return out;
}

function uint64(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
}

/**
 * The `digitally-signed` input of an SCT over a precertificate (RFC 6962 §3.2): version, signature type,
 * timestamp, entry type, PreCert { issuer_key_hash, tbs_certificate<1..2^24-1> }, extensions<0..2^16-1>.
 * `tbs` is the precertificate's TBSCertificate with the poison extension removed.
 */
export function precertSignedData(timestamp: number, issuerKeyHash: Buffer, tbs: Buffer, extensions = EMPTY) {
  return Buffer.concat([
    Buffer.from([SCT_VERSION_V1, SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP]),
    uint64(timestamp),
    uint(LOG_ENTRY_TYPE_PRECERT, 2),
    issuerKeyHash,
    uint(tbs.length, 3),
    tbs,
    uint(extensions.length, 2),
    extensions,
  ]);
}

const EMPTY = Buffer.alloc(0);

/** DigitallySigned (RFC 5246 §4.7) for an ECDSA-SHA256 signature. */
function digitallySigned(signature: Buffer): Buffer {
  return Buffer.concat([Buffer.from([HASH_SHA256, SIG_ECDSA]), uint(signature.length, 2), signature]);
}

/** The TLS encoding of one SCT (RFC 6962 §3.2 SignedCertificateTimestamp). */
export function serializeSct(sct: Sct): Buffer {
  return Buffer.concat([
    Buffer.from([SCT_VERSION_V1]),
    sct.logId,
    uint64(sct.timestamp),
    uint(sct.extensions.length, 2),
    sct.extensions,
    digitallySigned(sct.signature),
  ]);
}

/**
 * extnValue of the SCT list extension (RFC 6962 §3.3): an OCTET STRING holding the TLS-encoded
 * SignedCertificateTimestampList (uint16 total length, then each SCT as uint16 length + bytes).
 * The caller wraps this in the Extension's own OCTET STRING, hence the double wrapping clients expect.
 */
export function sctListExtensionValue(scts: Sct[]): Buffer {
  const items = scts.map((s) => {
    const body = serializeSct(s);
    return Buffer.concat([uint(body.length, 2), body]);
  });
  const list = Buffer.concat(items);
  return octetString(Buffer.concat([uint(list.length, 2), list]));
}

/** The JSON answer of add-chain / add-pre-chain (RFC 6962 §4.1). */
export function sctToJson(sct: Sct): Record<string, unknown> {
  return {
    sct_version: SCT_VERSION_V1,
    id: sct.logId.toString('base64'),
    timestamp: sct.timestamp,
    extensions: sct.extensions.toString('base64'),
    signature: digitallySigned(sct.signature).toString('base64'),
  };
}
