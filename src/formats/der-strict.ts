// A minimal strict DER reader (ITU-T X.690): enough to pull the SubjectPublicKeyInfo and the subject alternative
// names out of a certificate and to split an ECDSA signature into r and s, without OpenSSL's slow decoders.
// Anything that is not well-formed DER throws a DerError.

export class DerError extends Error {}

export interface Tlv {
  tag: number;
  /** The value bytes. */
  value: Buffer;
  /** The whole element: tag, length and value. */
  raw: Buffer;
}

/** Reads one element at `offset`; returns it and the offset just past it. */
export function readTlv(buf: Buffer, offset = 0): { tlv: Tlv; next: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated DER element');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let len = buf[offset + 1];
  let at = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    if (at + n > buf.length) throw new DerError('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + i];
    if (len < 0x80 || (n > 1 && buf[at] === 0)) throw new DerError('non-minimal DER length');
    at += n;
  }
  if (at + len > buf.length) throw new DerError('truncated DER value');
  return {
    tlv: { tag, value: buf.subarray(at, at + len), raw: buf.subarray(offset, at + len) },
    next: at + len,
  };
}

/** Parses `buf` as exactly one element with the expected tag. */
export function readOnly(buf: Buffer, tag: number): Tlv {
  const { tlv, next } = readTlv(buf);
  if (tlv.tag !== tag)
    throw new DerError(`expected DER tag 0x${tag.toString(16)}, got 0x${tlv.tag.toString(16)}`);
  if (next !== buf.length) throw new DerError('trailing data after DER element');
  return tlv;
}

/** The elements inside a constructed value. */
export function children(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < value.length) {
    const { tlv, next } = readTlv(value, at);
    out.push(tlv);
    at = next;
  }
  return out;
}

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
} as const;

/** A positive DER INTEGER as a bigint (minimal encoding enforced). */
export function positiveInteger(tlv: Tlv): bigint {
  if (tlv.tag !== TAG.INTEGER || tlv.value.length === 0) throw new DerError('expected an INTEGER');
  const v = tlv.value;
  if (v[0] & 0x80) throw new DerError('negative INTEGER');
  if (v.length > 1 && v[0] === 0 && !(v[1] & 0x80)) throw new DerError('non-minimal INTEGER');
  return v.length === 0 ? 0n : BigInt(`0x${v.toString('hex')}`);
}
