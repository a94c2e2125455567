// Signed certificate timestamps embedded in certificates (RFC 6962 §3.2, §3.3): the TLS-encoded
// SignedCertificateTimestampList inside extension 1.3.6.1.4.1.11129.2.4.2, and the `digitally-signed` input a CT
// log signs for a precertificate entry.
import { DerError, parseDer, TAG } from './der.js';

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

/**
 * The bytes the CT log signed for a precertificate entry (RFC 6962 §3.2 `digitally-signed struct`): version,
 * signature_type certificate_timestamp(0), timestamp, entry_type precert_entry(1), issuer_key_hash,
 * tbs_certificate<1..2^24-1>, extensions<0..2^16-1>.
 */
export function precertSignedData(
  sct: SignedCertificateTimestamp,
  issuerKeyHash: Buffer,
  tbs: Buffer,
): Buffer {
  const head = Buffer.alloc(12);
  head[0] = sct.version;
  head[1] = 0;
  head.writeBigUInt64BE(sct.timestamp, 2);
  head.writeUInt16BE(1, 10);
  const tbsLen = Buffer.from([(tbs.length >> 16) & 0xff, (tbs.length >> 8) & 0xff, tbs.length & 0xff]);
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(sct.extensions.length);
  return Buffer.concat([head, issuerKeyHash, tbsLen, tbs, extLen, sct.extensions]);
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
