// The one DER reader (src/formats/der.ts): a negative case for every strict-DER rule it enforces, the matching
// positive case beside it, and the writer read back through it.
import { describe, expect, it } from 'vitest';
import {
  children,
  DerError,
  isOid,
  oid,
  parseDer,
  readBitString,
  readBits,
  readBoolean,
  readIntegerBytes,
  readNode,
  readOid,
  readPositiveInteger,
  readSmallInt,
  readTime,
  seq,
  TAG,
  time,
  tlv,
} from '../../src/formats/index.js';

const b = (...bytes: number[]) => Buffer.from(bytes);
const refused = (f: () => unknown, why: RegExp) => {
  expect(f).toThrow(DerError);
  expect(f).toThrow(why);
};

describe('DER lengths and tags', () => {
  it('refuses high tag numbers', () => {
    refused(() => parseDer(b(0x1f, 0x01, 0x00)), /high tag number/);
  });

  it('refuses the indefinite length form', () => {
    refused(() => parseDer(b(0x30, 0x80, 0x00, 0x00)), /indefinite length/);
  });

  it('refuses lengths not in the shortest form', () => {
    refused(() => parseDer(b(0x04, 0x81, 0x01, 0x00)), /non-minimal length/); // long form below 128
    const body = Buffer.alloc(0x80);
    refused(() => parseDer(Buffer.concat([b(0x04, 0x82, 0x00, 0x80), body])), /non-minimal length/);
    expect(parseDer(Buffer.concat([b(0x04, 0x81, 0x80), body])).content.length).toBe(0x80);
  });

  it('refuses lengths of more than four octets', () => {
    refused(() => parseDer(b(0x04, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00)), /5 octets/);
  });

  it('refuses truncated headers, lengths and values', () => {
    refused(() => parseDer(b(0x30)), /truncated header/);
    refused(() => parseDer(b(0x04, 0x82, 0x01)), /truncated length/);
    refused(() => parseDer(b(0x04, 0x05, 0x01, 0x02)), /runs past/);
  });

  it('refuses a value running past its container, even inside the input', () => {
    const outer = readNode(b(0x30, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00));
    refused(() => children(outer), /runs past its container/);
  });

  it('refuses trailing bytes after the one value of an input', () => {
    refused(() => parseDer(b(0x05, 0x00, 0x00)), /trailing bytes/);
    expect(parseDer(b(0x05, 0x00)).tag).toBe(TAG.NULL);
  });

  it('refuses a primitive encoding read as constructed and a constructed one read as primitive', () => {
    refused(() => children(parseDer(b(0x04, 0x02, 0x05, 0x00))), /not constructed/);
    refused(() => readBoolean(parseDer(b(0x21, 0x03, 0x01, 0x01, 0xff))), /expected tag 0x1/);
    refused(() => readOid(parseDer(b(0x26, 0x03, 0x06, 0x01, 0x2a))), /expected tag 0x6/);
  });

  it('names what is missing or of the wrong type', () => {
    refused(() => readOid(undefined), /missing/);
    refused(() => parseDer(b(0x05, 0x00), TAG.SEQUENCE, 'thing'), /thing: expected tag 0x30, got 0x5/);
  });
});

describe('DER values', () => {
  it('BOOLEAN: one octet, 0x00 or 0xFF', () => {
    expect(readBoolean(parseDer(b(0x01, 0x01, 0xff)))).toBe(true);
    expect(readBoolean(parseDer(b(0x01, 0x01, 0x00)))).toBe(false);
    refused(() => readBoolean(parseDer(b(0x01, 0x01, 0x01))), /0x00 or 0xFF/);
    refused(() => readBoolean(parseDer(b(0x01, 0x02, 0xff, 0xff))), /0x00 or 0xFF/);
    refused(() => readBoolean(parseDer(b(0x01, 0x00))), /0x00 or 0xFF/);
  });

  it('INTEGER: not empty, shortest form, and non-negative where a magnitude is read', () => {
    expect(readPositiveInteger(parseDer(b(0x02, 0x02, 0x00, 0x80)))).toBe(128n);
    expect(readPositiveInteger(parseDer(b(0x02, 0x01, 0x00)))).toBe(0n);
    expect(readIntegerBytes(parseDer(b(0x02, 0x02, 0xff, 0x7f)))).toEqual(b(0xff, 0x7f));
    refused(() => readIntegerBytes(parseDer(b(0x02, 0x00))), /empty/);
    refused(() => readIntegerBytes(parseDer(b(0x02, 0x02, 0x00, 0x01))), /not minimally encoded/);
    refused(() => readIntegerBytes(parseDer(b(0x02, 0x02, 0xff, 0x80))), /not minimally encoded/);
    refused(() => readPositiveInteger(parseDer(b(0x02, 0x01, 0x80))), /negative/);
    expect(readSmallInt(parseDer(b(0x02, 0x01, 0x02)))).toBe(2);
    refused(() => readSmallInt(parseDer(b(0x02, 0x01, 0xff))), /out of range/);
    refused(() => readSmallInt(parseDer(b(0x02, 0x07, 0x01, 0, 0, 0, 0, 0, 0))), /out of range/);
  });

  it('BIT STRING: unused-bit count below 8, none when empty, the unused bits zero', () => {
    expect(readBits(parseDer(b(0x03, 0x02, 0x07, 0x80)))).toEqual({ bytes: b(0x80), unusedBits: 7 });
    expect(readBitString(parseDer(b(0x03, 0x01, 0x00)))).toEqual(b());
    refused(() => readBits(parseDer(b(0x03, 0x00))), /empty/);
    refused(() => readBits(parseDer(b(0x03, 0x02, 0x08, 0x00))), /unused-bit count/);
    refused(() => readBits(parseDer(b(0x03, 0x01, 0x01))), /unused-bit count/);
    refused(() => readBits(parseDer(b(0x03, 0x02, 0x01, 0x01))), /not zero/);
    // Keys and signatures have whole bytes.
    refused(() => readBitString(parseDer(b(0x03, 0x02, 0x01, 0x02))), /has unused bits/);
  });

  it('OBJECT IDENTIFIER: not empty, not truncated, subidentifiers in the shortest form', () => {
    expect(readOid(parseDer(oid('1.2.840.10045.2.1')))).toBe('1.2.840.10045.2.1');
    expect(readOid(parseDer(oid('2.999.3')))).toBe('2.999.3');
    expect(isOid(parseDer(oid('1.3.101.112')), '1.3.101.112')).toBe(true);
    expect(isOid(parseDer(oid('1.3.101.113')), '1.3.101.112')).toBe(false);
    expect(isOid(undefined, '1.3.101.112')).toBe(false);
    refused(() => readOid(parseDer(b(0x06, 0x00))), /empty/);
    refused(() => readOid(parseDer(b(0x06, 0x02, 0x2a, 0x86))), /truncated/);
    refused(() => readOid(parseDer(b(0x06, 0x03, 0x2a, 0x80, 0x01))), /not minimally encoded/);
    refused(() => readOid(parseDer(b(0x06, 0x02, 0x80, 0x01))), /not minimally encoded/);
  });

  it('UTCTime and GeneralizedTime: digits and Z only', () => {
    const t = (tag: number, s: string) => readTime(parseDer(tlv(tag, Buffer.from(s))));
    expect(t(TAG.UTC_TIME, '491231235959Z').toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(t(TAG.UTC_TIME, '500101000000Z').toISOString()).toBe('1950-01-01T00:00:00.000Z');
    expect(t(TAG.GENERALIZED_TIME, '20500101000000.25Z').toISOString()).toBe('2050-01-01T00:00:00.250Z');
    refused(() => t(TAG.UTC_TIME, '4912312359Z'), /invalid time/); // no seconds
    refused(() => t(TAG.UTC_TIME, '491231235959+0100'), /invalid time/);
    refused(() => t(TAG.GENERALIZED_TIME, '20500101000000'), /invalid time/);
    refused(() => t(TAG.GENERALIZED_TIME, '491231235959Z'), /invalid time/); // UTCTime form, wrong tag
    refused(() => t(TAG.OCTET_STRING, '491231235959Z'), /invalid time/);
  });
});

describe('DER writer', () => {
  it('writes the shortest lengths, which the reader reads back', () => {
    for (const n of [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 70_000]) {
      const encoded = tlv(TAG.OCTET_STRING, Buffer.alloc(n, 7));
      const node = parseDer(encoded, TAG.OCTET_STRING);
      expect(node.content.length).toBe(n);
      expect(node.contentStart).toBe(n < 0x80 ? 2 : n < 0x100 ? 3 : n < 0x10000 ? 4 : 5);
    }
    const nested = seq(oid('1.2.3'), time(new Date('2030-01-02T03:04:05Z')));
    const [o, when] = children(parseDer(nested, TAG.SEQUENCE));
    expect(readOid(o)).toBe('1.2.3');
    expect(readTime(when).toISOString()).toBe('2030-01-02T03:04:05.000Z');
  });
});
