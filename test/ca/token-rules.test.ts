// Every identity-token rule the CA enforces gets a token that breaks exactly that rule, signed (unless the rule
// is about the signature) with sigil's own issuer key, and each must be refused with a 4xx that names the rule.
import { createPublicKey, createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubShapedClaims } from '../../src/oidc/index.js';
import { newKey, postSigningCert, type RunningCa, requestCert, SHA, startCa } from './helpers.js';

let ca: RunningCa;
let issuerKey: KeyObject;
let kid: string;

beforeAll(async () => {
  ca = await startCa();
  issuerKey = createPublicKey(await readFile(join(ca.dataDir, 'oidc', 'issuer-key.pem'), 'utf8'));
  kid = await calculateJwkThumbprint(await exportJWK(issuerKey));
});
afterAll(() => ca.stop());

const privateIssuerKey = async () => readFile(join(ca.dataDir, 'oidc', 'issuer-key.pem'), 'utf8');

interface TokenSpec {
  claims?: Record<string, unknown>;
  drop?: string[];
  iss?: string;
  aud?: string;
  iat?: number;
  nbf?: number;
  exp?: number;
  alg?: string;
  kid?: string;
  key?: KeyObject | Uint8Array;
}

async function token(spec: TokenSpec = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    ...githubShapedClaims(
      { repository: 'acme/widgets', workflow: '.github/workflows/release.yml', ref: 'refs/heads/main' },
      { sha: SHA },
    ),
    iss: spec.iss ?? ca.url,
    aud: spec.aud ?? 'sigstore',
    iat: spec.iat ?? now,
    nbf: spec.nbf ?? now,
    exp: spec.exp ?? now + 300,
    ...spec.claims,
  };
  for (const k of spec.drop ?? []) delete claims[k];
  const key = spec.key ?? (await import('node:crypto')).createPrivateKey(await privateIssuerKey());
  return new SignJWT(claims)
    .setProtectedHeader({ alg: spec.alg ?? 'ES256', kid: spec.kid ?? kid })
    .sign(key as KeyObject);
}

function unsigned(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
}

async function expectRefused(tok: string, status: number, message: RegExp) {
  const res = await requestCert(ca.url, tok);
  const body = (await res.json()) as { message: string };
  expect({ status: res.status, message: body.message }).toMatchObject({
    status,
    message: expect.stringMatching(message),
  });
}

describe('identity token rules', () => {
  it('accepts a well-formed token (the control case)', async () => {
    expect((await requestCert(ca.url, await token())).status).toBe(200);
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await token({ iat: now - 900, nbf: now - 900, exp: now - 120 }), 401, /expired/);
  });

  it('tolerates small clock skew but not more', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await requestCert(ca.url, await token({ exp: now - 10 }))).status).toBe(200);
    await expectRefused(await token({ nbf: now + 600 }), 401, /not yet valid.*nbf/);
    await expectRefused(await token({ iat: now + 600 }), 401, /iat/);
  });

  it('refuses a token for another audience', async () => {
    await expectRefused(await token({ aud: 'someone-else' }), 401, /audience/);
  });

  it('refuses a token from an issuer not on the allow-list', async () => {
    await expectRefused(await token({ iss: 'https://evil.example' }), 401, /not on this CA's allow-list/);
  });

  it('refuses a token whose signature does not verify', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await expectRefused(await token({ key: other }), 401, /signature does not verify/);
    const good = await token();
    const [h, p, s] = good.split('.');
    const flipped = Buffer.from(s, 'base64url');
    flipped[5] ^= 1;
    await expectRefused(`${h}.${p}.${flipped.toString('base64url')}`, 401, /signature/);
  });

  it('refuses alg none', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(
      unsigned({ iss: ca.url, aud: 'sigstore', sub: 'x', iat: now, exp: now + 60 }),
      401,
      /algorithm none is not accepted/,
    );
  });

  it('refuses HS256 signed with the issuer public key as the HMAC secret', async () => {
    const pem = issuerKey.export({ type: 'spki', format: 'pem' });
    await expectRefused(await token({ alg: 'HS256', key: createSecretKey(Buffer.from(pem)) }), 401, /HS256/);
  });

  it('refuses an unknown kid', async () => {
    await expectRefused(await token({ kid: 'no-such-key' }), 401, /no key .* matches/);
  });

  it('refuses tokens missing required claims', async () => {
    await expectRefused(await token({ drop: ['exp'] }), 401, /"exp"/);
    await expectRefused(await token({ drop: ['sub'] }), 401, /"sub"/);
    await expectRefused(await token({ drop: ['iat'] }), 401, /"iat"/);
    await expectRefused(await token({ claims: { sub: '' } }), 401, /"sub"/);
    await expectRefused(await token({ claims: { exp: 'tomorrow' } }), 401, /"exp"/);
    await expectRefused(await token({ claims: { aud: ['a', 'b'] } }), 401, /audience/);
    await expectRefused(await token({ drop: ['job_workflow_ref'] }), 401, /job_workflow_ref/);
    await expectRefused(await token({ drop: ['run_attempt'] }), 401, /run_attempt/);
  });

  it('refuses a missing or malformed token', async () => {
    await expectRefused('', 401, /oidcIdentityToken/);
    await expectRefused('not.a.jwt', 401, /well-formed JWT/);
    // RFC 7515 §7.1: base64url, unpadded, nothing else; a token that only decodes leniently is not accepted.
    const [h, p, sig] = (await token()).split('.');
    await expectRefused(`${h}.${p}.${sig}==`, 401, /well-formed JWT/);
    await expectRefused(`${h}.${p}+.${sig}`, 401, /well-formed JWT/);
    await expectRefused(`${h}.${p}.${sig}.`, 401, /well-formed JWT/);
    await expectRefused(`${h} .${p}.${sig}`, 401, /well-formed JWT/);
  });

  it('refuses a token whose header has "crit" (RFC 7515 §4.1.11)', async () => {
    const key = (await import('node:crypto')).createPrivateKey(await privateIssuerKey());
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      ...githubShapedClaims(
        { repository: 'acme/widgets', workflow: '.github/workflows/release.yml', ref: 'refs/heads/main' },
        { sha: SHA },
      ),
      iss: ca.url,
      aud: 'sigstore',
      iat: now,
      exp: now + 300,
    };
    // jose refuses to sign an unknown crit, so the token is put together by hand.
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${enc({ alg: 'ES256', kid, crit: ['x-sigil-test'], 'x-sigil-test': 1 })}.${enc(claims)}`;
    const sig = (await import('node:crypto'))
      .sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      .toString('base64url');
    const tok = `${input}.${sig}`;
    await expectRefused(tok, 401, /crit/);
  });

  it('refuses a token older than the maximum token age, whatever its exp', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(
      await token({ iat: now - 2 * 3600, nbf: now - 2 * 3600, exp: now + 600 }),
      401,
      /issued more than/,
    );
    expect((await requestCert(ca.url, await token({ iat: now - 1800, exp: now + 600 }))).status).toBe(200);
  });
});

describe('proof of possession and keys', () => {
  it('refuses a proof over the wrong challenge or by another key', async () => {
    const tok = await token();
    const res = await requestCert(ca.url, tok, newKey(), 'not-the-subject');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/proof of possession/);
    // Proof made with key A while asking for key B.
    const a = newKey();
    const b = newKey();
    const { sign } = await import('node:crypto');
    const proof = sign('sha256', Buffer.from('repo:acme/widgets:ref:refs/heads/main'), a.privateKey);
    const r2 = await postSigningCert(ca.url, tok, { content: b.pem }, proof);
    expect(r2.status).toBe(400);
  });

  it('refuses unsupported and insecure key types', async () => {
    const tok = await token();
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const pem1 = k1.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    let res = await requestCert(ca.url, tok, { privateKey: k1.privateKey, pem: pem1 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(
      /unsupported key type.*1\.3\.132\.0\.10/,
    );

    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem2 = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    res = await requestCert(ca.url, tok, { privateKey: rsa.privateKey, pem: pem2 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/insecure.*1024/);

    const x = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    res = await requestCert(ca.url, tok, { privateKey: k1.privateKey, pem: x });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/unsupported key type/);
  });

  it('accepts Ed25519, P-384 and RSA-2048 keys with a matching proof', async () => {
    const tok = await token();
    for (const [type, opts] of [
      ['ed25519', {}],
      ['ec', { namedCurve: 'P-384' }],
      // No native check for P-521: imported as a KeyObject.
      ['ec', { namedCurve: 'P-521' }],
      ['rsa', { modulusLength: 2048 }],
    ] as const) {
      // biome-ignore lint/suspicious/noExplicitAny: generateKeyPairSync overloads per key type
      const k = (generateKeyPairSync as any)(type, opts);
      const pem = k.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const proofKey = { privateKey: k.privateKey, pem };
      const { sign } = await import('node:crypto');
      const ecHash = 'namedCurve' in opts && opts.namedCurve === 'P-521' ? 'sha512' : 'sha384';
      const hash = type === 'ed25519' ? null : type === 'ec' ? ecHash : 'sha256';
      const proof = sign(hash, Buffer.from('repo:acme/widgets:ref:refs/heads/main'), proofKey.privateKey);
      const res = await postSigningCert(ca.url, tok, { content: pem }, proof);
      expect({ type, status: res.status }).toEqual({ type, status: 200 });
    }
  });

  it('refuses an EC point that is not on the curve, naming the key (not the proof) as the problem', async () => {
    const tok = await token();
    const { sign, createPrivateKey } = await import('node:crypto');
    const pkcs8 = await privateIssuerKey();
    for (const namedCurve of ['P-256', 'P-384'] as const) {
      const k = generateKeyPairSync('ec', { namedCurve });
      const spki = k.publicKey.export({ type: 'spki', format: 'der' });
      // The last byte of y changed: almost surely off the curve, and the proof was made with the real key.
      spki[spki.length - 1] ^= 1;
      const pem = `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64')}\n-----END PUBLIC KEY-----\n`;
      const hash = namedCurve === 'P-256' ? 'sha256' : 'sha384';
      const proof = sign(hash, Buffer.from('repo:acme/widgets:ref:refs/heads/main'), k.privateKey);
      const res = await postSigningCert(ca.url, tok, { content: pem }, proof);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/not on the curve/);
      // The CA runs on this thread here (no issue workers): a refused point must not leave an OpenSSL error
      // behind for the thread's next key operation to trip over.
      expect(() => createPrivateKey(pkcs8)).not.toThrow();
    }
  });

  it('refuses a proof that is not strict DER (extra bytes, or a raw r||s signature)', async () => {
    const tok = await token();
    const { sign } = await import('node:crypto');
    const k = newKey();
    const msg = Buffer.from('repo:acme/widgets:ref:refs/heads/main');
    const der = sign('sha256', msg, k.privateKey);
    const raw = sign('sha256', msg, { key: k.privateKey, dsaEncoding: 'ieee-p1363' });
    for (const proof of [Buffer.concat([der, Buffer.from([0])]), raw]) {
      const res = await postSigningCert(ca.url, tok, { content: k.pem }, proof);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/proof of possession/);
    }
  });

  it('refuses a malformed public key', async () => {
    const tok = await token();
    const res = await requestCert(ca.url, tok, { privateKey: newKey().privateKey, pem: 'bm90IGEga2V5' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/could not be parsed/);
  });
});
