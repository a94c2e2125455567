// A minimal DER walker (ITU-T X.690 §8, §10 DER restrictions) used to read certificates, SCT extensions and
// RFC 3161 timestamps without building an object tree: each TLV is a pair of offsets into the original bytes, so
// signed regions (TBSCertificate, signed attributes) are verified over exactly the bytes that were signed.
// Only what X.509 needs: low tag numbers (< 31) and definite lengths of up to 4 bytes.

export class DerError extends Error {
  constructor(message: string) {
    super(`DER: ${message}`);
    this.name = 'DerError';
  }
}

/** One TLV: `tag` is the full identifier octet; header at `start`, content in [contentStart, end). */
export interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads the TLV starting at `offset`, never past `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated header at offset ${offset}`);
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag number at offset ${offset} is not supported`);
  let len = buf[offset + 1];
  let contentStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError(`unsupported length encoding at offset ${offset}`);
    if (contentStart + n > limit) throw new DerError(`truncated length at offset ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[contentStart + i];
    // DER: the shortest length form is mandatory (X.690 §10.1).
    if (len < 0x80 || (n > 1 && buf[contentStart] === 0))
      throw new DerError(`non-minimal length at ${offset}`);
    contentStart += n;
  }
  const end = contentStart + len;
  if (end > limit) throw new DerError(`value at offset ${offset} runs past its container`);
  return { tag, start: offset, contentStart, end };
}

/** The TLVs directly inside a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let off = parent.contentStart;
  while (off < parent.end) {
    const t = readTlv(buf, off, parent.end);
    out.push(t);
    off = t.end;
  }
  return out;
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t) throw new DerError(`missing ${what}`);
  if (t.tag !== tag)
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

export function content(buf: Uint8Array, t: Tlv): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + t.contentStart, t.end - t.contentStart);
}

export function whole(buf: Uint8Array, t: Tlv): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start);
}

/** Dotted-decimal form of an OBJECT IDENTIFIER's content octets (X.690 §8.19). */
export function decodeOid(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    value = value * 128 + (bytes[i] & 0x7f);
    if ((bytes[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    } else if (i === bytes.length - 1) {
      throw new DerError('truncated OID');
    }
  }
  return parts.join('.');
}

export function readOid(buf: Uint8Array, t: Tlv): string {
  return decodeOid(content(buf, expectTag(t, TAG.OID, 'OBJECT IDENTIFIER')));
}

/** UTCTime (YYMMDDHHMMSSZ, RFC 5280 §4.1.2.5.1) or GeneralizedTime (YYYYMMDDHHMMSS[.fff]Z). */
export function readTime(buf: Uint8Array, t: Tlv): Date {
  const s = content(buf, t).toString('latin1');
  const utc = t.tag === TAG.UTC_TIME ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s) : null;
  if (utc) {
    const yy = Number(utc[1]);
    // RFC 5280: YY >= 50 is 19YY, else 20YY.
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return new Date(Date.UTC(year, +utc[2] - 1, +utc[3], +utc[4], +utc[5], +utc[6]));
  }
  const gen =
    t.tag === TAG.GENERALIZED_TIME
      ? /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d{1,9}))?Z$/.exec(s)
      : null;
  if (gen) {
    const ms = gen[7] ? Math.floor(Number(`0.${gen[7]}`) * 1000) : 0;
    return new Date(Date.UTC(+gen[1], +gen[2] - 1, +gen[3], +gen[4], +gen[5], +gen[6], ms));
  }
  throw new DerError(`invalid time ${JSON.stringify(s)}`);
}

export function readBoolean(buf: Uint8Array, t: Tlv): boolean {
  const c = content(buf, expectTag(t, TAG.BOOLEAN, 'BOOLEAN'));
  if (c.length !== 1) throw new DerError('BOOLEAN of wrong length');
  return c[0] !== 0;
}

/** A small non-negative INTEGER (path lengths, versions). */
export function readSmallInt(buf: Uint8Array, t: Tlv): number {
  const c = content(buf, expectTag(t, TAG.INTEGER, 'INTEGER'));
  if (c.length === 0 || c.length > 6 || c[0] & 0x80) throw new DerError('INTEGER out of range');
  let v = 0;
  for (const b of c) v = v * 256 + b;
  return v;
}

/** DER encoding of a length (X.690 §8.1.3). */
export function encodeLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let v = len; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encodeTlv(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}
