// The hashedrekord canonical body is written out by hand for speed; it must be byte-for-byte what RFC 8785 gives
// (the canonicalize package, an independent implementation) for every digest algorithm and any key and signature.
import { randomBytes } from 'node:crypto';
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { type DigestAlgorithm, hashedRekordV001Body } from '../../src/formats/hashedrekord.js';

describe('hashedrekord canonical body', () => {
  it('is RFC 8785 canonical JSON', () => {
    for (const [algorithm, size] of [
      ['sha256', 32],
      ['sha384', 48],
      ['sha512', 64],
    ] as [DigestAlgorithm, number][]) {
      for (let i = 0; i < 20; i++) {
        const e = {
          algorithm,
          digestHex: randomBytes(size).toString('hex'),
          signature: randomBytes(64 + i),
          publicKey: Buffer.alloc(0),
        };
        const pem = `-----BEGIN PUBLIC KEY-----\n${randomBytes(60 + i).toString('base64')}\n-----END PUBLIC KEY-----\n`;
        const expected = canonicalize({
          apiVersion: '0.0.1',
          kind: 'hashedrekord',
          spec: {
            data: { hash: { algorithm, value: e.digestHex } },
            signature: {
              content: e.signature.toString('base64'),
              publicKey: { content: Buffer.from(pem).toString('base64') },
            },
          },
        });
        expect(hashedRekordV001Body(e, pem).toString()).toBe(expected);
      }
    }
  });

  it('refuses a digest that is not lowercase hex or an unknown algorithm', () => {
    const e = {
      algorithm: 'sha256' as DigestAlgorithm,
      digestHex: 'AB"',
      signature: Buffer.alloc(1),
      publicKey: Buffer.alloc(0),
    };
    expect(() => hashedRekordV001Body(e, 'pem')).toThrow(/lowercase hex/);
    expect(() =>
      hashedRekordV001Body({ ...e, digestHex: 'ab', algorithm: 'md5' as DigestAlgorithm }, 'pem'),
    ).toThrow();
  });
});
