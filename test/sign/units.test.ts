// The pure parts of sign/ and the trust store, each with the inputs it must refuse: token decoding and the
// challenge claim, the Actions request URL, cosign's predicate types and statements, key files (wrong password,
// cosign's own format), proof rendering against the Merkle verifier, and signing-config service selection.
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leafHash, nodeHash, rootFromInclusionProof } from '../../src/merkle/index.js';
import {
  actionsTokenUrl,
  buildStatement,
  challengeOf,
  encryptPrivateKey,
  keyNeedsPassword,
  loadPrivateKey,
  predicateTypeUri,
  tokenClaims,
} from '../../src/sign/index.js';
import { serviceUrls } from '../../src/trust/index.js';
import { proofSteps } from '../../src/verify/index.js';
import { tempDir } from './helpers.js';

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('identity tokens', () => {
  it('decodes claims and picks email, else sub, as the challenge', () => {
    expect(challengeOf(tokenClaims(jwt({ sub: 'repo:a/b:ref:refs/heads/main' })))).toBe(
      'repo:a/b:ref:refs/heads/main',
    );
    expect(challengeOf(tokenClaims(jwt({ sub: '123', email: 'dev@example.com' })))).toBe('dev@example.com');
  });
  it('refuses what is not a JWT or has no subject', () => {
    expect(() => tokenClaims('abc')).toThrow('not a JWT');
    expect(() => tokenClaims('a.!!!.c')).toThrow('not base64url JSON');
    expect(() => challengeOf(tokenClaims(jwt({ aud: 'x' })))).toThrow('neither an email nor a sub');
  });
  it('appends the audience to the Actions request URL as GitHub documents', () => {
    expect(actionsTokenUrl('https://x/token?api-version=2.0', 'sigstore')).toBe(
      'https://x/token?api-version=2.0&audience=sigstore',
    );
    expect(actionsTokenUrl('https://x/token', 'a b')).toBe('https://x/token?audience=a%20b');
  });
});

describe('predicates', () => {
  it("maps cosign's --type names and accepts URIs", () => {
    expect(predicateTypeUri('slsaprovenance')).toBe('https://slsa.dev/provenance/v0.2');
    expect(predicateTypeUri('slsaprovenance1')).toBe('https://slsa.dev/provenance/v1');
    expect(predicateTypeUri('spdxjson')).toBe('https://spdx.dev/Document');
    expect(predicateTypeUri('https://example.com/p/v1')).toBe('https://example.com/p/v1');
    expect(() => predicateTypeUri('slsa')).toThrow('invalid predicate type "slsa"');
  });
  it('builds statements as cosign does: JSON, SPDX text, custom wrapper', () => {
    const sha256 = 'a'.repeat(64);
    const base = { subjectName: 'reg/app', sha256 };
    expect(
      buildStatement({ ...base, type: 'cyclonedx', predicate: Buffer.from('{"bomFormat":"CycloneDX"}') }),
    ).toEqual({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://cyclonedx.org/bom',
      subject: [{ name: 'reg/app', digest: { sha256 } }],
      predicate: { bomFormat: 'CycloneDX' },
    });
    expect(
      buildStatement({ ...base, type: 'spdx', predicate: Buffer.from('SPDXVersion: SPDX-2.3') }).predicate,
    ).toBe('SPDXVersion: SPDX-2.3');
    const custom = buildStatement({
      ...base,
      type: 'custom',
      predicate: Buffer.from('hi'),
      now: new Date(0),
    });
    expect(custom.predicate).toEqual({ Data: 'hi', Timestamp: '1970-01-01T00:00:00Z' });
    expect(() =>
      buildStatement({ ...base, type: 'slsaprovenance1', predicate: Buffer.from('not json') }),
    ).toThrow('is not JSON');
    expect(() =>
      buildStatement({ ...base, sha256: 'xyz', type: 'custom', predicate: Buffer.from('') }),
    ).toThrow('64 hex');
  });
});

describe('key files', () => {
  const fixtures = join(import.meta.dirname, '../fixtures/cosign-keys');

  it("opens keys cosign wrote, in both of cosign's labels, with the right password only", async () => {
    for (const [file, password] of [
      ['cosign-generated-empty-password.key', ''],
      ['cosign-format-password-123.key', '123'],
    ]) {
      const path = join(fixtures, file);
      const key = await loadPrivateKey(path, password);
      expect(key.asymmetricKeyType).toBe('ec');
      expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      // The key is usable: its signature verifies with its public key.
      const sig = sign('sha256', Buffer.from('m'), key);
      expect(verify('sha256', Buffer.from('m'), createPublicKey(key), sig)).toBe(true);
      await expect(loadPrivateKey(path, `${password}x`)).rejects.toThrow('wrong password');
      await expect(loadPrivateKey(path, undefined)).rejects.toThrow('set COSIGN_PASSWORD');
      expect(keyNeedsPassword(await readFile(path, 'utf8'))).toBe(true);
    }
  });

  it("writes keys in cosign's format that open again; still reads encrypted PKCS#8", async () => {
    const dir = await tempDir();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = encryptPrivateKey(privateKey, 'pw');
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const doc = JSON.parse(Buffer.from(pem.split('\n').slice(1, -2).join(''), 'base64').toString());
    expect(doc.kdf).toMatchObject({ name: 'scrypt', params: { N: 65536, r: 8, p: 1 } });
    expect(doc.cipher.name).toBe('nacl/secretbox');
    await writeFile(join(dir, 'k.key'), pem);
    const back = await loadPrivateKey(join(dir, 'k.key'), 'pw');
    expect(back.export({ type: 'pkcs8', format: 'der' })).toEqual(
      privateKey.export({ type: 'pkcs8', format: 'der' }),
    );
    await expect(loadPrivateKey(join(dir, 'k.key'), 'nope')).rejects.toThrow('wrong password');
    // Encrypted PKCS#8 (what earlier sigil versions and openssl write).
    await writeFile(
      join(dir, 'p8.key'),
      privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }),
    );
    expect((await loadPrivateKey(join(dir, 'p8.key'), 'pw')).asymmetricKeyType).toBe('ec');
    await expect(loadPrivateKey(join(dir, 'p8.key'), 'nope')).rejects.toThrow('wrong password');
    await expect(loadPrivateKey(join(dir, 'missing.key'), 'pw')).rejects.toThrow('cannot read key');
  });

  it('refuses malformed and over-costly cosign-encrypted keys, saying why', async () => {
    const dir = await tempDir();
    const wrap = (json: unknown) => {
      const b64 = Buffer.from(typeof json === 'string' ? json : JSON.stringify(json)).toString('base64');
      return `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${b64}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
    };
    const good = {
      kdf: { name: 'scrypt', params: { N: 1024, r: 8, p: 1 }, salt: Buffer.alloc(32).toString('base64') },
      cipher: { name: 'nacl/secretbox', nonce: Buffer.alloc(24).toString('base64') },
      ciphertext: Buffer.alloc(40).toString('base64'),
    };
    const cases: [unknown, string][] = [
      ['not json', 'not JSON'],
      [{ ...good, kdf: { ...good.kdf, name: 'pbkdf2' } }, 'only scrypt'],
      [{ ...good, cipher: { ...good.cipher, name: 'aes' } }, 'only nacl/secretbox'],
      [{ ...good, kdf: { ...good.kdf, params: { N: 1024, r: 8 } } }, 'positive integers'],
      [{ ...good, kdf: { ...good.kdf, params: { N: 2 ** 22, r: 8, p: 1 } } }, 'too costly'],
      [{ ...good, kdf: { ...good.kdf, params: { N: 2 ** 18, r: 64, p: 1 } } }, 'too costly'],
      [{ ...good, cipher: { ...good.cipher, nonce: 'AAAA' } }, '24 bytes'],
      [{ ...good, ciphertext: 'not base64!' }, 'must be base64'],
      [good, 'wrong password'],
    ];
    for (const [i, [json, message]] of cases.entries()) {
      await writeFile(join(dir, `${i}.key`), wrap(json));
      await expect(loadPrivateKey(join(dir, `${i}.key`), 'pw')).rejects.toThrow(message);
    }
  });
});

describe('inclusion proof rendering', () => {
  it("reproduces the verifier's root for every leaf of a 7-leaf tree", () => {
    const leaves = Array.from({ length: 7 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
    const root = (lo: number, hi: number): Buffer => {
      if (hi - lo === 1) return leaves[lo];
      let k = 1;
      while (k * 2 < hi - lo) k *= 2;
      return nodeHash(root(lo, lo + k), root(lo + k, hi));
    };
    const proof = (i: number, lo: number, hi: number): Buffer[] => {
      if (hi - lo === 1) return [];
      let k = 1;
      while (k * 2 < hi - lo) k *= 2;
      return i < lo + k
        ? [...proof(i, lo, lo + k), root(lo + k, hi)]
        : [...proof(i, lo + k, hi), root(lo, lo + k)];
    };
    for (let i = 0; i < 7; i++) {
      const hashes = proof(i, 0, 7);
      const steps = proofSteps(
        leaves[i].toString('hex'),
        i,
        7,
        hashes.map((h) => h.toString('hex')),
      );
      expect(steps.at(-1)?.result ?? leaves[i].toString('hex')).toBe(root(0, 7).toString('hex'));
      expect(rootFromInclusionProof(i, 7, leaves[i], hashes)?.toString('hex')).toBe(
        root(0, 7).toString('hex'),
      );
    }
  });
});

describe('signing config service selection', () => {
  it('takes the first service valid now and ignores expired or future ones', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const sc = {
      caUrls: [
        { url: 'https://old', validFor: { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' } },
        { url: 'https://future', validFor: { start: '2030-01-01T00:00:00Z' } },
        { url: 'https://ca', validFor: { start: '2025-01-01T00:00:00Z' } },
      ],
      rekorTlogUrls: [{ url: 'https://log' }],
    };
    expect(serviceUrls(sc, now)).toEqual({
      caUrl: 'https://ca',
      rekorUrl: 'https://log',
      rekorApiVersion: 1,
      oidcUrl: undefined,
      tsaUrl: undefined,
    });
    expect(serviceUrls(undefined)).toEqual({});
    // The highest Rekor API version listed wins (protobuf-specs SigningConfig), wherever it is in the list.
    const publicGood = {
      rekorTlogUrls: [
        { url: 'https://rekor.sigstore.dev', majorApiVersion: 1 },
        { url: 'https://log2025-1.rekor.sigstore.dev', majorApiVersion: 2 },
        { url: 'https://log2026-1.rekor.sigstore.dev', majorApiVersion: 3 },
      ],
    };
    expect(serviceUrls(publicGood, now)).toMatchObject({
      rekorUrl: 'https://log2025-1.rekor.sigstore.dev',
      rekorApiVersion: 2,
    });
    expect(serviceUrls({ rekorTlogUrls: publicGood.rekorTlogUrls.slice(0, 1) }, now).rekorApiVersion).toBe(1);
    // A v0.1 signing config names its services as plain URLs.
    expect(
      serviceUrls({ caUrl: 'https://fulcio', oidcUrl: 'https://oauth2', tlogUrls: ['https://rekor'] }, now),
    ).toEqual({
      caUrl: 'https://fulcio',
      rekorUrl: 'https://rekor',
      rekorApiVersion: 1,
      oidcUrl: 'https://oauth2',
      tsaUrl: undefined,
    });
    expect(serviceUrls({ caUrls: 'nope' })).toEqual({
      caUrl: undefined,
      rekorUrl: undefined,
      rekorApiVersion: undefined,
      oidcUrl: undefined,
      tsaUrl: undefined,
    });
  });
});
