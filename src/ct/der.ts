// A minimal synchronous DER (ITU-T X.690) writer and reader: enough to build TBSCertificates and SCT extensions
// and to take certificates, CSRs and public keys apart without an async WebCrypto round trip on the hot path.
// The CA builds certificates with it; the CT log uses it to strip the poison extension from precertificates.

/** Universal tags used by X.509 (X.690 §8). */
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

function lengthSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x100) return 2;
  if (n < 0x10000) return 3;
  if (n < 0x1000000) return 4;
  return 5;
}

function writeLength(out: Buffer, pos: number, n: number): number {
  if (n < 0x80) {
    out[pos] = n;
    return pos + 1;
  }
  const size = lengthSize(n) - 1;
  out[pos] = 0x80 | size;
  for (let i = size; i > 0; i--) out[pos + i] = (n >>> (8 * (size - i))) & 0xff;
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
  out[0] = tag;
  let pos = writeLength(out, 1, len);
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
export const printable = (s: string) => tlv(TAG.PRINTABLE_STRING, Buffer.from(s, 'ascii'));
export const ia5 = (s: string) => tlv(TAG.IA5_STRING, Buffer.from(s, 'ascii'));
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

/** OBJECT IDENTIFIER from dotted form (X.690 §8.19), memoised: the CA encodes the same few dozen OIDs. */
export function oid(dotted: string): Buffer {
  const hit = oidCache.get(dotted);
  if (hit) return hit;
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [arcs[0] * 40 + arcs[1]];
  for (const arc of arcs.slice(2)) {
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

// ---- reading ----

/** One decoded TLV: where it sits in `bytes`, its tag and its content. */
export interface Node {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset one past the last content byte. */
  end: number;
  /** The content bytes (a view, not a copy). */
  content: Buffer;
  /** The whole TLV (a view). */
  raw: Buffer;
}

export class DerError extends Error {}

/** Reads the TLV at `offset` of `buf`; definite lengths only, as DER requires. */
export function readNode(buf: Buffer, offset = 0): Node {
  if (offset + 2 > buf.length) throw new DerError('truncated DER');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let len = buf[offset + 1];
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    if (pos + n > buf.length) throw new DerError('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i];
    pos += n;
  }
  const end = pos + len;
  if (end > buf.length) throw new DerError('DER length runs past the end of the input');
  return { tag, start: offset, end, content: buf.subarray(pos, end), raw: buf.subarray(offset, end) };
}

/** The children of a constructed node. */
export function children(node: Node): Node[] {
  if (!(node.tag & 0x20)) throw new DerError(`tag 0x${node.tag.toString(16)} is not constructed`);
  const out: Node[] = [];
  let offset = 0;
  while (offset < node.content.length) {
    const child = readNode(node.content, offset);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/** Parses a whole buffer as exactly one TLV. */
export function parseDer(buf: Buffer): Node {
  const node = readNode(buf, 0);
  if (node.end !== buf.length) throw new DerError('trailing bytes after DER value');
  return node;
}

export function expectTag(node: Node | undefined, tag: number, what: string): Node {
  if (!node || node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}`);
  return node;
}

/** Dotted form of an OBJECT IDENTIFIER node. */
export function readOid(node: Node): string {
  expectTag(node, TAG.OID, 'object identifier');
  const b = node.content;
  if (b.length === 0) throw new DerError('empty object identifier');
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < b.length; i++) {
    value = value * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      if (arcs.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        arcs.push(first, value - first * 40);
      } else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** The bytes inside a BIT STRING with no unused bits (keys, signatures). */
export function readBitString(node: Node): Buffer {
  expectTag(node, TAG.BIT_STRING, 'bit string');
  if (node.content.length < 1 || node.content[0] !== 0) throw new DerError('bit string has unused bits');
  return node.content.subarray(1);
}
