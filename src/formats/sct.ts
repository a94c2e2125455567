// Signed certificate timestamps (RFC 6962 §3.2, §3.3, §4.1), both sides: the `digitally-signed` input a CT log
// signs for a precertificate entry, the TLS encoding of an SCT and of the SignedCertificateTimestampList inside
// extension 1.3.6.1.4.1.11129.2.4.2 (what the CA embeds and verifiers parse), and the JSON form add-pre-chain
// returns. Clients (sigstore-js verifySCTs) rebuild the signed data from the final certificate minus this
// extension, so the bytes here must match RFC 6962 exactly.
import { DerError, octetString, parseDer, TAG } from './der.js';

const SCT_VERSION_V1 = 0;
const SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP = 0;
const LOG_ENTRY_TYPE_PRECERT = 1;
/** RFC 5246 §7.4.1.4.1: HashAlgorithm sha256(4); SignatureAlgorithm ecdsa(3). */
const HASH_SHA256 = 4;
const SIG_ECDSA = 3;
const EMPTY = Buffer.alloc(0);

/** An SCT as a log issues it (ECDSA-SHA256, v1). */
export interface Sct {
  /** SHA-256 of the log's DER SubjectPublicKeyInfo. */
  logId: Buffer;
  /** Milliseconds since the epoch. */
  timestamp: number;
  extensions: Buffer;
  /** DER ECDSA signature over the signed data. */
  signature: Buffer;
}

/** An SCT as read from a certificate, with the algorithms it names. */
export interface SignedCertificateTimestamp {
  version: number;
  logId: Buffer;
  /** Milliseconds since the epoch. */
  timestamp: bigint;
  extensions: Buffer;
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Buffer;
}

/** What a CT log is asked to sign and record for a precertificate (§3.2 PreCert, §4.6 PrecertChainEntry). */
export interface PrecertSubmission {
  /** The precertificate's TBSCertificate without the poison extension (RFC 6962 §3.2). */
  tbs: Buffer;
  /** SHA-256 of the issuing CA's SubjectPublicKeyInfo. */
  issuerKeyHash: Buffer;
  /** The signed precertificate and its issuer chain (DER), kept as extra_data for auditors. */
  precertificate: Buffer;
  chain: Buffer[];
}

function uint(value: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  out.writeUIntBE(value, 0, bytes);
  return out;
}

function uint64(value: number | bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
}

/**
 * The `digitally-signed` input of an SCT over a precertificate (RFC 6962 §3.2): version v1, signature type
 * certificate_timestamp, timestamp, entry type precert_entry, PreCert { issuer_key_hash,
 * tbs_certificate<1..2^24-1> }, extensions<0..2^16-1>. `tbs` is the precertificate's TBSCertificate with the
 * poison extension removed (equally: the final certificate's without the SCT list).
 */
export function precertSignedData(
  timestamp: number | bigint,
  issuerKeyHash: Buffer,
  tbs: Buffer,
  extensions: Buffer = EMPTY,
): Buffer {
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

/** Parses the extension value: an OCTET STRING wrapping the TLS list (RFC 6962 §3.3). */
export function parseSctList(extensionValue: Buffer): SignedCertificateTimestamp[] {
  const list = parseDer(extensionValue, TAG.OCTET_STRING, 'SCT list').content;
  const reader = new TlsReader(list);
  const body = new TlsReader(reader.vector(2));
  reader.end('SCT list');
  const out: SignedCertificateTimestamp[] = [];
  while (!body.done()) out.push(parseSct(body.vector(2)));
  return out;
}

function parseSct(bytes: Buffer): SignedCertificateTimestamp {
  const r = new TlsReader(bytes);
  const sct: SignedCertificateTimestamp = {
    version: r.uint(1),
    logId: r.bytes(32),
    timestamp: r.uint64(),
    extensions: r.vector(2),
    hashAlgorithm: r.uint(1),
    signatureAlgorithm: r.uint(1),
    signature: r.vector(2),
  };
  r.end('SCT');
  if (sct.version !== 0) throw new DerError(`unsupported SCT version ${sct.version}`);
  return sct;
}

/** Hash algorithm named by a TLS HashAlgorithm code (RFC 5246 §7.4.1.4.1). */
export function sctHashName(code: number): string | undefined {
  return ({ 4: 'sha256', 5: 'sha384', 6: 'sha512' } as Record<number, string>)[code];
}

class TlsReader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  done(): boolean {
    return this.off >= this.buf.length;
  }
  end(what: string): void {
    if (this.off !== this.buf.length) throw new DerError(`${what}: trailing bytes`);
  }
  bytes(n: number): Buffer {
    if (this.off + n > this.buf.length) throw new DerError('SCT: truncated');
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
  uint(n: number): number {
    return this.bytes(n).readUIntBE(0, n);
  }
  uint64(): bigint {
    return this.bytes(8).readBigUInt64BE(0);
  }
  vector(lenBytes: number): Buffer {
    return this.bytes(this.uint(lenBytes));
  }
}
