// The two ECDSA-over-a-digest checkers (the native addon and the JavaScript fallback) against each other and
// against node:crypto as the oracle: the same verdict on valid signatures, malleated ones, every kind of
// malformed DER, out-of-range scalars, wrong digests and keys, for P-256 and P-384. CI builds the addon, so its
// absence is a failure here unless SIGIL_NATIVE=0 asks for the fallback on purpose.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Curve,
  type DigestCheck,
  decodePoint,
  nativeCrypto,
  P256,
  P384,
  parseEcdsaSignature,
  verifyEcdsaDigests,
} from '../../src/crypto/index.js';

const int = (b: Buffer) => Buffer.concat([Buffer.from([0x02, b.length]), b]);
const seq = (body: Buffer) => Buffer.concat([Buffer.from([0x30, body.length]), body]);
const der = (r: Buffer, s: Buffer) => seq(Buffer.concat([int(r), int(s)]));
/** Minimal DER INTEGER content of a non-negative bigint. */
const big = (x: bigint) => {
  let hex = x.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const b = Buffer.from(hex, 'hex');
  return b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
};

/** Signatures that are not the strict DER encoding of an in-range (r, s), or are but do not verify. */
function malformed(sig: Buffer, n: bigint): Buffer[] {
  const { r, s } = parseEcdsaSignature(sig) as { r: bigint; s: bigint };
  const body = sig.subarray(2);
  return [
    Buffer.alloc(0),
    Buffer.from('garbage'),
    Buffer.concat([sig, Buffer.from([0])]), // trailing byte
    sig.subarray(0, sig.length - 1), // truncated
    Buffer.concat([Buffer.from([0x30, 0x81, body.length]), body]), // long-form length (BER, not DER)
    der(Buffer.concat([Buffer.from([0]), big(r)]), big(s)), // non-minimal integer
    der(Buffer.from([0x80 | (Number(r & 0x7fn) || 1)]), big(s)), // negative r
    der(big(r), Buffer.from([0xff])), // negative s
    der(Buffer.from([0]), big(s)), // r = 0
    der(big(r), Buffer.from([0])), // s = 0
    der(big(n), big(s)), // r = n
    der(big(r), big(n + s)), // s ≥ n
    der(big(r + n), big(s)), // r ≥ n
    der(big(r), big(s + 1n)), // in range, wrong
    seq(Buffer.concat([int(big(r)), int(big(s)), int(big(1n))])), // three integers
    seq(int(big(r))), // one integer
    Buffer.concat([Buffer.from([0x31]), sig.subarray(1)]), // SET, not SEQUENCE
  ];
}

const pointBytes = (publicKey: ReturnType<typeof generateKeyPairSync>['publicKey']) => {
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x as string, 'base64url'),
    Buffer.from(jwk.y as string, 'base64url'),
  ]);
};

describe('ECDSA over a digest: native addon and JavaScript agree', () => {
  it('the native addon is built', () => {
    if (process.env.SIGIL_NATIVE === '0') return;
    expect(nativeCrypto, 'build/Release/sigil_native.node (npm ci builds it)').toBeDefined();
  });

  for (const [curve, name, hash] of [
    [P256, 'P-256', 'sha256'],
    [P384, 'P-384', 'sha384'],
  ] as [Curve, string, string][]) {
    it(`${name}: valid, malleated, malformed and mismatched signatures`, () => {
      const checks: DigestCheck[] = [];
      const oracle: boolean[] = [];
      for (let i = 0; i < 12; i++) {
        const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: name });
        const q = decodePoint(curve, pointBytes(publicKey)) as NonNullable<ReturnType<typeof decodePoint>>;
        const msg = randomBytes(40);
        const digest = createHash(hash).update(msg).digest();
        const sig = sign(hash, msg, privateKey);
        const { r, s } = parseEcdsaSignature(sig) as { r: bigint; s: bigint };
        const add = (d: Buffer, signature: Buffer, expected: boolean) => {
          checks.push({ curve, q, digest: d, signature });
          oracle.push(expected);
        };
        add(digest, sig, verify(hash, msg, publicKey, sig));
        add(digest, der(big(r), big(curve.n - s)), true); // (r, n − s) verifies too
        const wrong = Buffer.from(digest);
        wrong[i % digest.length] ^= 1;
        add(wrong, sig, false);
        for (const bad of malformed(sig, curve.n)) add(digest, bad, false);
        // Key without its encoding (built from coordinates) and another key.
        checks.push({ curve, q: { x: q.x, y: q.y }, digest, signature: sig });
        oracle.push(true);
        const other = generateKeyPairSync('ec', { namedCurve: name }).publicKey;
        checks.push({ curve, q: decodePoint(curve, pointBytes(other))!, digest, signature: sig });
        oracle.push(false);
      }
      // A digest longer than the order is truncated to its leftmost bits (SEC 1 §4.1.3 step 5).
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: name });
      const long = createHash('sha512').update('long').digest();
      const sig512 = sign('sha512', Buffer.from('long'), privateKey);
      checks.push({ curve, q: decodePoint(curve, pointBytes(publicKey))!, digest: long, signature: sig512 });
      oracle.push(true);

      const js = verifyEcdsaDigests(checks, { native: false });
      expect(js).toEqual(oracle);
      if (nativeCrypto) expect(verifyEcdsaDigests(checks, { native: nativeCrypto })).toEqual(oracle);
    });
  }

  it('the native addon refuses points off the curve, the point at infinity, an unknown curve and non-bytes', () => {
    if (!nativeCrypto) return;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const digest = createHash('sha256').update('m').digest();
    const sig = sign('sha256', Buffer.from('m'), privateKey);
    const point = pointBytes(publicKey);
    expect(nativeCrypto.verify(1, point, digest, sig)).toBe(true);
    const off = Buffer.from(point);
    off[64] ^= 1;
    expect(nativeCrypto.verify(1, off, digest, sig)).toBe(false);
    expect(nativeCrypto.verify(1, Buffer.from([0]), digest, sig)).toBe(false);
    expect(nativeCrypto.verify(1, point.subarray(0, 64), digest, sig)).toBe(false);
    expect(nativeCrypto.verify(2, point, digest, sig)).toBe(false);
    expect(nativeCrypto.verify(3, point, digest, sig)).toBe(false);
    expect(nativeCrypto.verify(0, point, digest, sig)).toBe(false);
    expect(() =>
      (nativeCrypto as { verify: (...a: unknown[]) => boolean }).verify(1, 'x', digest, sig),
    ).toThrow(TypeError);
    expect(() => (nativeCrypto as { verify: (...a: unknown[]) => boolean }).verify(1, point)).toThrow(
      TypeError,
    );
  });

  it("leaves no error behind on OpenSSL's queue for node:crypto to trip over", () => {
    if (!nativeCrypto) return;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const off = pointBytes(publicKey);
    off[64] ^= 1;
    const digest = createHash('sha256').update('m').digest();
    expect(nativeCrypto.verify(1, off, digest, sign('sha256', Buffer.from('m'), privateKey))).toBe(false);
    expect(
      nativeCrypto.verify(1, pointBytes(publicKey), digest, Buffer.from('3006020100020100', 'hex')),
    ).toBe(false);
    // node reads the thread's OpenSSL error queue after its own calls: a stale error would make these throw.
    expect(createPrivateKey(pem).asymmetricKeyType).toBe('ec');
    expect(verify('sha256', Buffer.from('m'), publicKey, sign('sha256', Buffer.from('m'), privateKey))).toBe(
      true,
    );
  });
});
