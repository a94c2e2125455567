// ECDSA signing with a held key (src/crypto/ecdsa-sign.ts): the native addon's signatures verify with node:crypto
// (the oracle) for P-256 and P-384, are randomised, and bad input to the addon (wrong scalar length, a scalar
// that is not a private key, a foreign handle, a bad digest) is refused with an exception, never a crash.
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ecdsaSigningKey,
  localSigner,
  type NativeCrypto,
  type NativeKeyHandle,
  nativeCrypto,
  parseEcdsaSignature,
} from '../../src/crypto/index.js';

const N256 = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const scalarOf = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
  Buffer.from(key.export({ format: 'jwk' }).d as string, 'base64url');
/** The addon with signing, or undefined when it is not built (SIGIL_NATIVE=0: the fallback is tested alone). */
const native = nativeCrypto?.signingKey && nativeCrypto.sign ? nativeCrypto : undefined;
type Signing = Required<Pick<NativeCrypto, 'signingKey' | 'sign'>>;

describe('ECDSA signing with a held key', () => {
  it('the native addon signs', () => {
    if (process.env.SIGIL_NATIVE === '0') return;
    expect(native, 'build/Release/sigil_native.node with signingKey/sign (npm ci builds it)').toBeDefined();
  });

  for (const [curve, hash] of [
    ['P-256', 'sha256'],
    ['P-384', 'sha384'],
  ] as const) {
    it(`${curve}: native and fallback signatures verify with node:crypto, and differ every time`, () => {
      for (let i = 0; i < 8; i++) {
        const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
        const msg = Buffer.from(`message ${i} `.repeat(40 * i + 1));
        for (const opt of [{ native: false as const }, {}]) {
          const key = ecdsaSigningKey(privateKey, opt);
          expect(key?.curve).toBe(curve);
          expect(key?.native).toBe('native' in opt ? false : native !== undefined);
          const a = key?.sign(msg) as Buffer;
          const b = key?.sign(msg) as Buffer;
          expect(verify(hash, msg, publicKey, a)).toBe(true);
          expect(verify(hash, msg, publicKey, b)).toBe(true);
          expect(a.equals(b)).toBe(false);
          expect(parseEcdsaSignature(a)).toBeDefined();
          const other = Buffer.from(msg);
          other[0] ^= 1;
          expect(verify(hash, other, publicKey, a)).toBe(false);
        }
      }
    });
  }

  it('localSigner signs ECDSA keys through it, and other keys as before', async () => {
    for (const namedCurve of ['P-256', 'P-384'] as const) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
      const sig = await localSigner(privateKey).sign(Buffer.from('x'));
      expect(verify(namedCurve === 'P-256' ? 'sha256' : 'sha384', Buffer.from('x'), publicKey, sig)).toBe(
        true,
      );
    }
    const ed = generateKeyPairSync('ed25519');
    expect(ecdsaSigningKey(ed.privateKey)).toBeUndefined();
    expect(ecdsaSigningKey(generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey)).toBeUndefined();
    expect(ecdsaSigningKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toBeUndefined();
    const sig = await localSigner(ed.privateKey).sign(Buffer.from('x'));
    expect(verify(null, Buffer.from('x'), ed.publicKey, sig)).toBe(true);
  });

  it('the addon signs a given digest (P-256 with a SHA-256 digest verifies as sha256 over the message)', () => {
    if (!native) return;
    const n = native as Signing;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const handle = n.signingKey(1, scalarOf(privateKey));
    const msg = Buffer.from('over a digest');
    const sig = n.sign(handle, createHash('sha256').update(msg).digest());
    expect(verify('sha256', msg, publicKey, sig)).toBe(true);
    // The same key, signed by node, verifies the same way: the handle is that key.
    expect(verify('sha256', msg, publicKey, sign('sha256', msg, privateKey))).toBe(true);
  });

  it('the addon refuses scalars that are not private keys of the curve, foreign handles and bad digests', () => {
    if (!native) return;
    const n = native as Signing;
    const d = scalarOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const big = (x: bigint) => Buffer.from(x.toString(16).padStart(64, '0'), 'hex');
    expect(() => n.signingKey(1, d.subarray(0, 31))).toThrow(RangeError); // short
    expect(() => n.signingKey(1, Buffer.concat([d, Buffer.from([1])]))).toThrow(RangeError); // long
    expect(() => n.signingKey(2, d)).toThrow(RangeError); // a P-256 scalar for P-384
    expect(() => n.signingKey(3, d)).toThrow(RangeError); // unknown curve
    expect(() => n.signingKey(0, d)).toThrow(RangeError);
    expect(() => n.signingKey(1, Buffer.alloc(32))).toThrow(RangeError); // d = 0
    expect(() => n.signingKey(1, big(N256))).toThrow(RangeError); // d = n
    expect(() => n.signingKey(1, Buffer.alloc(32, 0xff))).toThrow(RangeError); // d > n
    expect(n.signingKey(1, big(N256 - 1n))).toBeDefined(); // d = n - 1 is a key
    const call = n as unknown as {
      signingKey: (...a: unknown[]) => unknown;
      sign: (...a: unknown[]) => unknown;
    };
    expect(() => call.signingKey(1, 'x'.repeat(32))).toThrow(TypeError);
    expect(() => call.signingKey(1)).toThrow(TypeError);
    const handle = n.signingKey(1, d);
    const digest = createHash('sha256').update('m').digest();
    expect(() => call.sign({}, digest)).toThrow(TypeError);
    expect(() => call.sign(d, digest)).toThrow(TypeError);
    expect(() => call.sign(handle, 'digest')).toThrow(TypeError);
    expect(() => call.sign(handle)).toThrow(TypeError);
    expect(() => n.sign(handle, Buffer.alloc(0))).toThrow(RangeError);
    expect(() => n.sign(handle, Buffer.alloc(65))).toThrow(RangeError);
    // Refusals leave node:crypto working on this thread (no stale OpenSSL error).
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(verify('sha256', Buffer.from('m'), publicKey, sign('sha256', Buffer.from('m'), privateKey))).toBe(
      true,
    );
    expect(n.sign(handle, digest).length).toBeGreaterThan(8);
  });

  it('a native key that does not match its KeyObject is never used', () => {
    if (!native) return;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const other = scalarOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const lying: NativeCrypto = {
      ...native,
      verify: native.verify,
      signingKey: (curve) => (native as Signing).signingKey(curve, other) as NativeKeyHandle,
    };
    expect(() => ecdsaSigningKey(privateKey, { native: lying })).toThrow(/does not match/);
  });
});
