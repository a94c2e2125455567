// RSASSA-PSS over a digest (#14: Rekor v2 takes PKIX_RSA_PSS_* keys): EMSA-PSS-VERIFY (RFC 8017 §9.1.2) written
// for the log, since node:crypto verifies PSS only over a message it hashes. Checked against node:crypto's own PSS
// signatures (several salt lengths and hashes), and a negative case for each rule of the verification.
import { constants, createHash, generateKeyPairSync, publicDecrypt, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { emsaPssVerify, verificationKeyFromDer } from '../../src/log/rekor/keys.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const der = publicKey.export({ type: 'spki', format: 'der' });
const key = verificationKeyFromDer(der, false);
const pss = (data: Buffer, hash = 'sha256', saltLength = 32) =>
  sign(hash, data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
const em = (sig: Buffer) => publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, sig);

describe('RSA-PSS over a digest', () => {
  const data = Buffer.from('an artifact');
  const digest = createHash('sha256').update(data).digest();

  it('accepts node:crypto PSS signatures with any salt length and hash', () => {
    for (const saltLength of [0, 20, 32, 64])
      expect(key.verifyPssDigest?.('sha256', digest, pss(data, 'sha256', saltLength))).toBe(true);
    const d512 = createHash('sha512').update(data).digest();
    expect(key.verifyPssDigest?.('sha512', d512, pss(data, 'sha512', 64))).toBe(true);
  });

  it('refuses another digest, a PKCS#1 v1.5 signature, a wrong length and a flipped bit', () => {
    const sig = pss(data);
    expect(key.verifyPssDigest?.('sha256', createHash('sha256').update('other').digest(), sig)).toBe(false);
    expect(key.verifyPssDigest?.('sha256', digest, sign('sha256', data, privateKey))).toBe(false);
    expect(key.verifyPssDigest?.('sha256', digest, sig.subarray(1))).toBe(false);
    const flipped = Buffer.from(sig);
    flipped[100] ^= 1;
    expect(key.verifyPssDigest?.('sha256', digest, flipped)).toBe(false);
    // And a PSS signature is not a PKCS#1 v1.5 one.
    expect(key.verifyDigest('sha256', digest, sig)).toBe(false);
  });

  it('refuses an encoded message that breaks each rule of EMSA-PSS-VERIFY', () => {
    const good = em(pss(data));
    expect(emsaPssVerify('sha256', digest, good, 2048)).toBe(true);
    const broken = (edit: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      edit(b);
      return emsaPssVerify('sha256', digest, b, 2048);
    };
    // Trailer byte 0xbc.
    expect(
      broken((b) => {
        b[b.length - 1] = 0xbb;
      }),
    ).toBe(false);
    // The leftmost 8·emLen − emBits bits of maskedDB must be zero (modBits 2048: emBits 2047, one bit).
    expect(
      broken((b) => {
        b[0] |= 0x80;
      }),
    ).toBe(false);
    // H: the hash of M' (a changed H changes the mask too, so DB's separator is lost as well).
    expect(
      broken((b) => {
        b[b.length - 2] ^= 1;
      }),
    ).toBe(false);
    // A digest of the wrong length for the hash.
    expect(emsaPssVerify('sha256', digest.subarray(1), good, 2048)).toBe(false);
    // A leading extra byte that is not zero (k > emLen happens when modBits − 1 is a multiple of 8).
    expect(emsaPssVerify('sha256', digest, Buffer.concat([Buffer.from([1]), good]), 2049)).toBe(false);
    // DB must be zeros, 0x01, salt: a masked DB changed in its padding breaks the separator or the salt.
    expect(
      broken((b) => {
        b[10] ^= 0x40;
      }),
    ).toBe(false);
    // Too short for the hash.
    expect(emsaPssVerify('sha256', digest, Buffer.alloc(33, 0xbc), 264)).toBe(false);
  });
});
