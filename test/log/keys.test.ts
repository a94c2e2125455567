// The digest-based ECDSA verifier and the PEM key/certificate parser, against node:crypto as the oracle, with a
// negative case for each rule: malformed DER, out-of-range r and s, wrong digest or key, off-curve points.
import { execFileSync } from 'node:child_process';
import {
  createECDH,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  X509Certificate,
} from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  batchInverse,
  type DigestCheck,
  decodePoint,
  modInverse,
  P256,
  P384,
  parseEcdsaSignature,
  verifyEcdsaDigests,
} from '../../src/crypto/ecdsa-digest.js';
import { KeyError, parseVerificationKey } from '../../src/log/rekor/keys.js';

const der = (r: Buffer, s: Buffer) => {
  const int = (b: Buffer) => Buffer.concat([Buffer.from([0x02, b.length]), b]);
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
};
/** Minimal DER INTEGER content of a non-negative bigint. */
const big = (x: bigint, _size = 32) => {
  let hex = x.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const b = Buffer.from(hex, 'hex');
  return b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
};

describe('ECDSA over a digest', () => {
  for (const [curve, hash, size] of [
    ['P-256', 'sha256', 32],
    ['P-384', 'sha384', 48],
  ] as const) {
    it(`${curve}: agrees with node:crypto on valid and invalid signatures`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const key = parseVerificationKey(Buffer.from(publicKey.export({ type: 'spki', format: 'pem' })));
      const n = curve === 'P-256' ? P256.n : P384.n;
      for (let i = 0; i < 40; i++) {
        const msg = Buffer.from(`message ${i}`);
        const sig = sign(hash, msg, privateKey);
        const digest = createHash(hash).update(msg).digest();
        expect(key.verifyDigest(hash, digest, sig)).toBe(true);
        expect(key.verifyMessage(msg, sig)).toBe(true);
        const wrong = Buffer.from(digest);
        wrong[i % size] ^= 1;
        expect(key.verifyDigest(hash, wrong, sig)).toBe(false);
        expect(verify(hash, msg, publicKey, sig)).toBe(true);
        const { r, s } = parseEcdsaSignature(sig)!;
        // (r, n - s) is the other valid signature for the same digest (ECDSA malleability; Go and OpenSSL accept it).
        expect(key.verifyDigest(hash, digest, der(big(r, size), big(n - s, size)))).toBe(true);
        expect(key.verifyDigest(hash, digest, der(big(r + 1n, size), big(s, size)))).toBe(false);
      }
      const digest = createHash(hash).update('m').digest();
      const sig = sign(hash, Buffer.from('m'), privateKey);
      const { r, s } = parseEcdsaSignature(sig)!;
      // Out-of-range values and malformed DER.
      expect(key.verifyDigest(hash, digest, der(Buffer.from([0]), big(s, size)))).toBe(false);
      expect(key.verifyDigest(hash, digest, der(big(r, size), Buffer.from([0])))).toBe(false);
      expect(
        key.verifyDigest(hash, digest, der(Buffer.concat([Buffer.from([0]), big(n, size)]), big(s, size))),
      ).toBe(false);
      expect(
        key.verifyDigest(
          hash,
          digest,
          der(big(r, size), Buffer.concat([Buffer.from([0]), big(n + s, size)])),
        ),
      ).toBe(false);
      expect(key.verifyDigest(hash, digest, Buffer.concat([sig, Buffer.from([0])]))).toBe(false);
      expect(key.verifyDigest(hash, digest, sig.subarray(0, sig.length - 1))).toBe(false);
      expect(key.verifyDigest(hash, digest, Buffer.alloc(0))).toBe(false);
      expect(key.verifyDigest(hash, digest, Buffer.from('garbage'))).toBe(false);
      // A different key does not verify.
      const other = generateKeyPairSync('ec', { namedCurve: curve }).publicKey;
      const otherKey = parseVerificationKey(Buffer.from(other.export({ type: 'spki', format: 'pem' })));
      expect(otherKey.verifyDigest(hash, digest, sig)).toBe(false);
    });
  }

  it('rejects non-minimal or negative DER integers', () => {
    expect(parseEcdsaSignature(der(Buffer.from([0x00, 0x01]), Buffer.from([0x01])))).toBeUndefined();
    expect(parseEcdsaSignature(der(Buffer.from([0x80]), Buffer.from([0x01])))).toBeUndefined();
    expect(parseEcdsaSignature(der(Buffer.from([0x01]), Buffer.from([0x01])))).toEqual({ r: 1n, s: 1n });
  });

  it('RSA PKCS#1 v1.5 over a digest; Ed25519 keys cannot verify digests', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = parseVerificationKey(Buffer.from(rsa.publicKey.export({ type: 'spki', format: 'pem' })));
    const msg = Buffer.from('rsa');
    const sig = sign('sha256', msg, rsa.privateKey);
    const digest = createHash('sha256').update(msg).digest();
    expect(key.verifyDigest('sha256', digest, sig)).toBe(true);
    expect(key.verifyDigest('sha384', digest, sig)).toBe(false);
    expect(key.verifyDigest('sha256', createHash('sha256').update('x').digest(), sig)).toBe(false);
    expect(key.verifyDigest('sha256', digest, sig.subarray(1))).toBe(false);
    const ed = generateKeyPairSync('ed25519');
    const edKey = parseVerificationKey(Buffer.from(ed.publicKey.export({ type: 'spki', format: 'pem' })));
    expect(edKey.type).toBe('ed25519');
    expect(edKey.verifyMessage(msg, sign(null, msg, ed.privateKey))).toBe(true);
    expect(edKey.verifyDigest('sha256', digest, sign(null, digest, ed.privateKey))).toBe(false);
  });
});

describe('verification material', () => {
  it('reads a certificate: its key verifies, its email and URI SANs are subjects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigil-cert-'));
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
    execFileSync('openssl', [
      'req',
      '-new',
      '-x509',
      '-key',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=test',
      '-addext',
      'subjectAltName=email:Dev@Example.com,URI:https://github.com/o/r/.github/workflows/w.yml@refs/heads/main,DNS:ignored.example',
    ]);
    const pem = readFileSync(certFile, 'utf8');
    const key = parseVerificationKey(Buffer.from(pem));
    expect(key.certificate).toBe(true);
    expect(key.subjects).toEqual([
      'Dev@Example.com',
      'https://github.com/o/r/.github/workflows/w.yml@refs/heads/main',
    ]);
    expect(new X509Certificate(key.canonicalPem).raw).toEqual(new X509Certificate(pem).raw);
    const msg = Buffer.from('signed by cert');
    const sig = sign('sha256', msg, createPrivateKey(readFileSync(keyFile)));
    expect(key.verifyMessage(msg, sig)).toBe(true);
    expect(key.verifyDigest('sha256', createHash('sha256').update(msg).digest(), sig)).toBe(true);
    expect(key.verifyMessage(Buffer.from('other'), sig)).toBe(false);
  });

  it('refuses what is not a usable key, saying why', () => {
    const bad = (s: string) => () => parseVerificationKey(Buffer.from(s));
    expect(bad('not pem')).toThrow(KeyError);
    expect(bad('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----')).toThrow(
      /unsupported PEM block/,
    );
    expect(bad('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')).toThrow(/malformed public key/);
    expect(bad('-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----')).toThrow(
      /malformed certificate/,
    );
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const offCurve = Buffer.from(spki);
    offCurve[offCurve.length - 1] ^= 1;
    const pem = (d: Buffer) =>
      `-----BEGIN PUBLIC KEY-----\n${d.toString('base64')}\n-----END PUBLIC KEY-----`;
    expect(bad(pem(offCurve))).toThrow(/not an uncompressed point on the curve/);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey;
    expect(bad(k1.export({ type: 'spki', format: 'pem' }).toString())).toThrow(/unsupported elliptic curve/);
  });
});

describe('modular inverse', () => {
  it('matches the plain extended Euclidean algorithm mod p and n of both curves', () => {
    const plain = (a: bigint, m: bigint) => {
      let [r0, r1, s0, s1] = [((a % m) + m) % m, m, 1n, 0n];
      while (r1 !== 0n) {
        const q = r0 / r1;
        [r0, r1] = [r1, r0 - q * r1];
        [s0, s1] = [s1, s0 - q * s1];
      }
      return ((s0 % m) + m) % m;
    };
    for (const m of [P256.p, P256.n, P384.p, P384.n]) {
      const samples = [1n, 2n, 3n, m - 1n, m - 2n, 2n ** 64n, 2n ** 200n + 7n, m / 2n, m + 5n];
      for (let i = 0; i < 300; i++) samples.push(BigInt(`0x${randomBytes(48).toString('hex')}`) % m || 1n);
      for (const a of samples) {
        const inv = modInverse(a, m);
        expect(inv).toBe(plain(a, m));
        expect(((((a % m) * inv) % m) + m) % m).toBe(1n);
      }
      expect(() => modInverse(0n, m)).toThrow(RangeError);
      expect(() => modInverse(m, m)).toThrow(RangeError);
    }
  });
});

describe('batched ECDSA verification', () => {
  const pointOf = (curve: typeof P256, publicKey: ReturnType<typeof generateKeyPairSync>['publicKey']) => {
    const jwk = publicKey.export({ format: 'jwk' });
    const raw = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x as string, 'base64url'),
      Buffer.from(jwk.y as string, 'base64url'),
    ]);
    return decodePoint(curve, raw)!;
  };

  it('gives each check of a mixed P-256/P-384 batch the same answer as node:crypto', () => {
    const checks: DigestCheck[] = [];
    const expected: boolean[] = [];
    for (let i = 0; i < 60; i++) {
      const [curve, name, hash] = i % 3 === 2 ? [P384, 'P-384', 'sha384'] : [P256, 'P-256', 'sha256'];
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: name });
      const msg = Buffer.from(`batch ${i}`);
      let signature = sign(hash, msg, privateKey);
      let digest = createHash(hash).update(msg).digest();
      // Every fourth check is broken in a different way: wrong digest, wrong key, or malformed DER.
      if (i % 4 === 1) digest = createHash(hash).update('other').digest();
      if (i % 8 === 3) signature = Buffer.from(signature.subarray(0, signature.length - 1));
      const q =
        i % 8 === 5
          ? pointOf(curve, generateKeyPairSync('ec', { namedCurve: name }).publicKey)
          : pointOf(curve, publicKey);
      checks.push({ curve, q, digest, signature });
      expected.push(i % 4 !== 1 && i % 8 !== 3 && i % 8 !== 5);
    }
    expect(verifyEcdsaDigests(checks)).toEqual(expected);
    expect(verifyEcdsaDigests([])).toEqual([]);
  });

  it('handles t·G = Q (point doubling) and rejects the point at infinity', () => {
    // Build a signature whose e·r⁻¹ equals the private key d, so that t·G + Q = 2Q: e = d·r, s = k⁻¹·(e + r·d).
    const { n } = P256;
    const ecdh = createECDH('prime256v1');
    const d = BigInt(`0x${randomBytes(32).toString('hex')}`) % n;
    const k = BigInt(`0x${randomBytes(32).toString('hex')}`) % n;
    const hex = (x: bigint) => Buffer.from(x.toString(16).padStart(64, '0'), 'hex');
    ecdh.setPrivateKey(hex(d));
    const q = decodePoint(P256, ecdh.getPublicKey())!;
    ecdh.setPrivateKey(hex(k));
    const r = BigInt(`0x${ecdh.getPublicKey().subarray(1, 33).toString('hex')}`) % n;
    const e = (d * r) % n;
    const s = (modInverse(k, n) * ((e + r * d) % n)) % n;
    const good = { curve: P256, q, digest: hex(e), signature: der(big(r), big(s)) };
    const tweaked = { ...good, signature: der(big(r), big((s + 1n) % n)) };
    // e = −d·r makes t·G = −Q: R is the point at infinity (its s would be 0, so any s must fail).
    const infinity = { ...good, digest: hex((n - e) % n) };
    expect(verifyEcdsaDigests([good, tweaked, infinity])).toEqual([true, false, false]);
  });

  it('inverts every element of a batch', () => {
    for (const m of [P256.p, P256.n, P384.n]) {
      const xs = Array.from({ length: 50 }, () => BigInt(`0x${randomBytes(48).toString('hex')}`) % m || 1n);
      const invs = batchInverse(xs, m);
      for (let i = 0; i < xs.length; i++) expect((xs[i] * invs[i]) % m).toBe(1n);
    }
  });
});
