// A small DER reader for the explorer's browser code (tag, length, contents; OIDs, strings, times). The page cannot
// load src/formats/der.ts, which is built on Node's Buffer; this one only displays what a log served, so it is
// lenient where formats/ is strict (the log and sigil verify enforce strict DER), but never reads out of bounds.
import { fromUtf8 } from './bytes.js';

export interface Tlv {
  tag: number;
  /** The whole element, header included. */
  raw: Uint8Array;
  /** The contents. */
  value: Uint8Array;
}

export class DerError extends Error {}

/** The element at `at` and the offset after it. */
export function readTlv(bytes: Uint8Array, at = 0): { tlv: Tlv; next: number } {
  if (at + 2 > bytes.length) throw new DerError('truncated DER header');
  const tag = bytes[at];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let len = bytes[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > bytes.length) throw new DerError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[start + i];
    start += n;
  }
  const end = start + len;
  if (end > bytes.length) throw new DerError('DER element runs past its container');
  return { tlv: { tag, raw: bytes.subarray(at, end), value: bytes.subarray(start, end) }, next: end };
}

export function parse(bytes: Uint8Array): Tlv {
  return readTlv(bytes, 0).tlv;
}

/** The elements inside a constructed element's contents. */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < t.value.length) {
    const { tlv, next } = readTlv(t.value, at);
    out.push(tlv);
    at = next;
  }
  return out;
}

export function oid(t: Tlv): string {
  const v = t.value;
  if (t.tag !== 0x06 || v.length === 0) throw new DerError('not an OID');
  const parts: number[] = [];
  let n = 0;
  for (const b of v) {
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

/** UTF8String, PrintableString, IA5String, T61String, BMPString and other character strings as text. */
export function text(t: Tlv): string {
  if (t.tag === 0x1e) {
    let s = '';
    for (let i = 0; i + 1 < t.value.length; i += 2)
      s += String.fromCharCode(t.value[i] * 256 + t.value[i + 1]);
    return s;
  }
  return fromUtf8(t.value);
}

/** UTCTime (0x17) or GeneralizedTime (0x18) as a Date. */
export function time(t: Tlv): Date {
  const s = fromUtf8(t.value);
  const m =
    t.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new DerError(`bad time ${s}`);
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/** An INTEGER's magnitude bytes, without the sign-padding zero. */
export function integerBytes(t: Tlv): Uint8Array {
  let v = t.value;
  while (v.length > 1 && v[0] === 0) v = v.subarray(1);
  return v;
}
