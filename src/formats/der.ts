// DER, ITU-T X.690 (02/2021): §8 the encoding, §10-§11 the restrictions that make it distinguished. sigil's one
// reader and writer of it: the CA builds certificates with the writer; the CT log, the Rekor log's key parsing,
// the verifier, the CA's key/CSR parsing and ECDSA signature parsing all read through readNode, which refuses
// anything that is not strict DER. The rules, each with a negative test in test/formats/der.test.ts:
//   - low tag numbers only (< 31; nothing X.509 uses needs more)                           §8.1.2.4
//   - definite lengths only: the indefinite form (0x80) is BER, not DER                     §10.1
//   - lengths in the shortest form: short form below 128, no leading zero octet             §10.1
//   - lengths of at most 4 octets, and no value running past its container or the input     §8.1.3
//   - one value per input where a whole input is parsed (no trailing bytes)
//   - constructed encodings only for constructed tags (the bit 0x20), and vice versa        §10.2
//   - BOOLEAN: one octet, 0x00 or 0xFF                                                        §11.1
//   - INTEGER: at least one octet, the shortest two's complement form                        §8.3.2
//   - BIT STRING: unused-bit count below 8, 0 when empty, the unused bits zero                §8.6.2, §11.2.1
//   - OBJECT IDENTIFIER: non-empty, no truncated subidentifier, no leading 0x80 octet        §8.19.2
//   - UTCTime YYMMDDHHMMSSZ, GeneralizedTime YYYYMMDDHHMMSS[.f]Z (RFC 5280 §4.1.2.5)        §11.7-§11.8
// Nodes are offsets into the input, never copies, so signed regions are checked over exactly the bytes signed.

export class DerError extends Error {
  constructor(message: string) {
    super(`DER: ${message}`);
    this.name = 'DerError';
  }
}

/** Universal tags used by X.509 (X.690 §8), as identifier octets (SEQUENCE and SET with the constructed bit). */
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

// ---- reading ----

/** One TLV of `buf`: the identifier octet at `start`, the content in [contentStart, end). */
export class Node {
  constructor(
    readonly buf: Buffer,
    readonly tag: number,
    readonly start: number,
    readonly contentStart: number,
    readonly end: number,
  ) {}
  /** The content octets (a view, not a copy). */
  get content(): Buffer {
    return this.buf.subarray(this.contentStart, this.end);
  }
  /** The whole TLV (a view). */
  get raw(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }
}

/** Reads the TLV at `offset` of `buf`, which must end by `limit`. */
export function readNode(buf: Buffer, offset = 0, limit = buf.length): Node {
  if (offset + 2 > limit) throw new DerError(`truncated header at offset ${offset}`);
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag number at offset ${offset} is not supported`);
  let len = buf[offset + 1];
  let contentStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError(`indefinite length at offset ${offset} (BER, not DER)`);
    if (n > 4) throw new DerError(`length of ${n} octets at offset ${offset} is not supported`);
    if (contentStart + n > limit) throw new DerError(`truncated length at offset ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[contentStart + i];
    if (len < 0x80 || buf[contentStart] === 0) throw new DerError(`non-minimal length at offset ${offset}`);
    contentStart += n;
  }
  const end = contentStart + len;
  if (end > limit) throw new DerError(`value at offset ${offset} runs past its container`);
  return new Node(buf, tag, offset, contentStart, end);
}

/** Parses the whole of `buf` as exactly one TLV, of the given tag if one is given. */
export function parseDer(buf: Uint8Array, tag?: number, what = 'value'): Node {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const node = readNode(b, 0);
  if (node.end !== b.length) throw new DerError(`trailing bytes after ${what}`);
  return tag === undefined ? node : expectTag(node, tag, what);
}

/** The one TLV that is the whole content of `node` (an OCTET STRING wrapping DER, as extnValue does). */
export function inside(node: Node, tag: number, what: string): Node {
  const inner = readNode(node.buf, node.contentStart, node.end);
  if (inner.end !== node.end) throw new DerError(`trailing bytes after ${what}`);
  return expectTag(inner, tag, what);
}

/** The TLVs directly inside a constructed TLV. */
export function children(node: Node): Node[] {
  if (!(node.tag & 0x20)) throw new DerError(`tag 0x${node.tag.toString(16)} is not constructed`);
  const out: Node[] = [];
  for (let off = node.contentStart; off < node.end; ) {
    const child = readNode(node.buf, off, node.end);
    out.push(child);
    off = child.end;
  }
  return out;
}

export function expectTag(node: Node | undefined, tag: number, what: string): Node {
  if (!node) throw new DerError(`missing ${what}`);
  if (node.tag !== tag)
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

/** A primitive universal type's content (types below SEQUENCE have no constructed DER form, §10.2). */
function primitive(node: Node | undefined, tag: number, what: string): Buffer {
  return expectTag(node, tag, what).content;
}

export function readBoolean(node: Node | undefined): boolean {
  const { buf, contentStart, end } = expectTag(node, TAG.BOOLEAN, 'BOOLEAN');
  const v = buf[contentStart];
  if (end - contentStart !== 1 || (v !== 0 && v !== 0xff)) throw new DerError('BOOLEAN is not 0x00 or 0xFF');
  return v === 0xff;
}

/** An INTEGER's content octets, checked to be the shortest two's complement form. */
export function readIntegerBytes(node: Node | undefined, what = 'INTEGER'): Buffer {
  const c = primitive(node, TAG.INTEGER, what);
  if (c.length === 0) throw new DerError(`${what} is empty`);
  if (c.length > 1 && ((c[0] === 0 && !(c[1] & 0x80)) || (c[0] === 0xff && c[1] & 0x80)))
    throw new DerError(`${what} is not minimally encoded`);
  return c;
}

/** A non-negative INTEGER as a bigint. */
export function readPositiveInteger(node: Node | undefined): bigint {
  const c = readIntegerBytes(node);
  if (c[0] & 0x80) throw new DerError('negative INTEGER');
  return BigInt(`0x${c.toString('hex')}`);
}

/** A small non-negative INTEGER (versions, path lengths). */
export function readSmallInt(node: Node | undefined): number {
  const c = readIntegerBytes(node);
  if (c.length > 6 || c[0] & 0x80) throw new DerError('INTEGER out of range');
  let v = 0;
  for (const b of c) v = v * 256 + b;
  return v;
}

/** A BIT STRING's bytes and its count of unused bits in the last one. */
export function readBits(node: Node | undefined): { bytes: Buffer; unusedBits: number } {
  const c = primitive(node, TAG.BIT_STRING, 'BIT STRING');
  if (c.length === 0) throw new DerError('BIT STRING is empty');
  const unusedBits = c[0];
  if (unusedBits > 7 || (c.length === 1 && unusedBits !== 0))
    throw new DerError('BIT STRING has an invalid unused-bit count');
  if (unusedBits && c[c.length - 1] & ((1 << unusedBits) - 1))
    throw new DerError('BIT STRING has unused bits that are not zero');
  return { bytes: c.subarray(1), unusedBits };
}

/** The bytes of a BIT STRING with no unused bits (keys, signatures). */
export function readBitString(node: Node | undefined): Buffer {
  const { bytes, unusedBits } = readBits(node);
  if (unusedBits !== 0) throw new DerError('BIT STRING has unused bits');
  return bytes;
}

/** Dotted-decimal form of an OBJECT IDENTIFIER (§8.19). Read in place: a certificate has a dozen or more. */
export function readOid(node: Node | undefined): string {
  const { buf, contentStart, end } = expectTag(node, TAG.OID, 'OBJECT IDENTIFIER');
  if (contentStart === end) throw new DerError('empty OBJECT IDENTIFIER');
  let out = '';
  let value = 0;
  let atStart = true;
  for (let i = contentStart; i < end; i++) {
    const byte = buf[i];
    if (atStart && byte === 0x80)
      throw new DerError('OBJECT IDENTIFIER subidentifier is not minimally encoded');
    value = value * 128 + (byte & 0x7f);
    atStart = !(byte & 0x80);
    if (!atStart) continue;
    if (out === '') {
      const first = value < 80 ? Math.floor(value / 40) : 2;
      out = `${first}.${value - first * 40}`;
    } else out += `.${value}`;
    value = 0;
  }
  if (!atStart) throw new DerError('truncated OBJECT IDENTIFIER');
  return out;
}

/** Whether `node` is the OBJECT IDENTIFIER `dotted`, compared as encoded bytes (no string is built). */
export function isOid(node: Node | undefined, dotted: string): boolean {
  const want = oid(dotted);
  return (
    node !== undefined &&
    node.end - node.start === want.length &&
    node.buf.compare(want, 0, want.length, node.start, node.end) === 0
  );
}

const UTC_TIME = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d{1,9}))?Z$/;

/** UTCTime (RFC 5280 §4.1.2.5.1: YY ≥ 50 is 19YY) or GeneralizedTime, always Zulu. */
export function readTime(node: Node | undefined): Date {
  if (!node) throw new DerError('missing time');
  const s = node.buf.toString('latin1', node.contentStart, node.end);
  const utc = node.tag === TAG.UTC_TIME ? UTC_TIME.exec(s) : null;
  if (utc) {
    const yy = Number(utc[1]);
    return new Date(
      Date.UTC(yy >= 50 ? 1900 + yy : 2000 + yy, +utc[2] - 1, +utc[3], +utc[4], +utc[5], +utc[6]),
    );
  }
  const gen = node.tag === TAG.GENERALIZED_TIME ? GENERALIZED_TIME.exec(s) : null;
  if (gen) {
    const ms = gen[7] ? Math.floor(Number(`0.${gen[7]}`) * 1000) : 0;
    return new Date(Date.UTC(+gen[1], +gen[2] - 1, +gen[3], +gen[4], +gen[5], +gen[6], ms));
  }
  throw new DerError(`invalid time ${JSON.stringify(s)}`);
}

// ---- writing ----

/** Bytes a DER length field takes (§8.1.3). */
export function lengthSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5;
}

/** Writes a tag and a length at `pos` of `out`; returns the position after them. */
export function writeHeader(out: Buffer, pos: number, tag: number, len: number): number {
  out[pos++] = tag;
  if (len < 0x80) {
    out[pos] = len;
    return pos + 1;
  }
  const size = lengthSize(len) - 1;
  out[pos] = 0x80 | size;
  for (let i = size; i > 0; i--) out[pos + i] = (len >>> (8 * (size - i))) & 0xff;
  return pos + 1 + size;
}

/**
 * One TLV with the given tag byte around already-encoded content. Written straight into one allocation: the
 * CA encodes a few hundred of these per certificate, so intermediate concatenations would dominate.
 */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  let len = 0;
  for (const c of content) len += c.length;
  const out = Buffer.allocUnsafe(1 + lengthSize(len) + len);
  let pos = writeHeader(out, 0, tag, len);
  for (const c of content) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

export const seq = (...items: Uint8Array[]) => tlv(TAG.SEQUENCE, ...items);
export const set = (...items: Uint8Array[]) => tlv(TAG.SET, ...items);
/** Context-specific constructed [n] (EXPLICIT tagging, or IMPLICIT of a constructed type). */
export const explicit = (n: number, ...items: Uint8Array[]) => tlv(0xa0 | n, ...items);
/** Context-specific primitive [n] (IMPLICIT tagging of a primitive type, e.g. GeneralName choices). */
export const implicit = (n: number, content: Uint8Array) => tlv(0x80 | n, content);
export const octetString = (content: Uint8Array) => tlv(TAG.OCTET_STRING, content);
export const bitString = (content: Uint8Array, unusedBits = 0) =>
  tlv(TAG.BIT_STRING, Buffer.from([unusedBits]), content);
export const utf8 = (s: string) => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
export const boolean = (b: boolean) => tlv(TAG.BOOLEAN, Buffer.from([b ? 0xff : 0x00]));
export const NULL = Buffer.from([TAG.NULL, 0x00]);

/** A non-negative INTEGER from big-endian magnitude bytes (a leading 0x00 is added when the top bit is set). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const body = trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : Buffer.from(trimmed);
  return tlv(TAG.INTEGER, body);
}

export const smallInteger = (n: number) =>
  unsignedInteger(Buffer.from(n.toString(16).padStart(2, '0'), 'hex'));

const oidCache = new Map<string, Buffer>();

/** OBJECT IDENTIFIER from dotted form (§8.19), memoised: the CA encodes the same few dozen OIDs. */
export function oid(dotted: string): Buffer {
  const hit = oidCache.get(dotted);
  if (hit) return hit;
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [];
  for (const arc of [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  const encoded = tlv(TAG.OID, Buffer.from(bytes));
  oidCache.set(dotted, encoded);
  return encoded;
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; seconds precision, always Zulu. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  if (year >= 1950 && year < 2050)
    return tlv(TAG.UTC_TIME, Buffer.from(`${two(year % 100)}${rest}`, 'latin1'));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${String(year).padStart(4, '0')}${rest}`, 'latin1'));
}
