// Which identities the CA certifies (#15.6): by default only sigil's own CI issuer; a public issuer must come with
// an `allow` list (owners/repositories for CI issuers, identities otherwise) and anything outside it is refused
// with 403; a configured issuer whose keys cannot be fetched answers 503 with Retry-After, an unconfigured one 401.
// Third-party IdPs are the named test double from idp-double.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCaConfig, parseCaConfig } from '../../src/ca/index.js';
import { githubShapedClaims } from '../../src/oidc/index.js';
import { freePort } from '../e2e/helpers.js';
import { type RunningCa, requestCert, SHA, startCa } from './helpers.js';
import { startTestIdp, type TestIdp } from './idp-double.js';

let ca: RunningCa;
let idp: TestIdp;
let deadIssuer: string;

const ciClaims = (repository: string) => ({
  sub: `repo:${repository}:ref:refs/heads/main`,
  ...githubShapedClaims(
    { repository, workflow: '.github/workflows/release.yml', ref: 'refs/heads/main' },
    { sha: SHA },
  ),
});

beforeAll(async () => {
  idp = await startTestIdp(['ci', 'mail', 'open']);
  deadIssuer = `http://127.0.0.1:${await freePort()}/nobody-home`;
  ca = await startCa({
    config: {
      issuers: [
        {
          issuerUrl: idp.issuer('ci'),
          type: 'github-workflow',
          clientId: 'sigstore',
          allow: ['acme/*', 'solo/one'],
        },
        { issuerUrl: idp.issuer('mail'), type: 'email', clientId: 'sigstore', allow: ['*@example.com'] },
        { issuerUrl: idp.issuer('open'), type: 'github-workflow', clientId: 'sigstore' },
        { issuerUrl: deadIssuer, type: 'email', clientId: 'sigstore' },
      ],
    },
  });
});
afterAll(async () => {
  await ca?.stop();
  await idp?.close();
});

async function answer(token: string, challenge?: string) {
  const res = await requestCert(ca.url, token, undefined, challenge);
  const body = (await res.json()) as { message?: string };
  return { status: res.status, message: body.message ?? '', retryAfter: res.headers.get('retry-after') };
}

describe('the default allow-list', () => {
  it('trusts no public issuer by default, only sigil’s own', () => {
    const config = defaultCaConfig();
    expect(config.issuers).toEqual([]);
    expect(config.allowOwnIssuer).toBe(true);
  });

  it('refuses a public issuer without an allow list, naming the fix', () => {
    expect(() =>
      parseCaConfig({
        issuers: [{ issuerUrl: 'https://token.actions.githubusercontent.com', type: 'github-workflow' }],
      }),
    ).toThrow(/issues tokens to anyone; add "allow" with the repositories/);
    expect(() =>
      parseCaConfig({ issuers: [{ issuerUrl: 'https://accounts.google.com', type: 'email' }] }),
    ).toThrow(/add "allow" with the identities/);
    expect(() =>
      parseCaConfig({
        issuers: [
          { issuerUrl: 'https://token.actions.githubusercontent.com', type: 'github-workflow', allow: [] },
        ],
      }),
    ).not.toThrow();
    expect(() =>
      parseCaConfig({
        issuers: [{ issuerUrl: 'https://gitlab.com', type: 'gitlab-pipeline', allow: 'acme' }],
      }),
    ).toThrow(/allow must be a list/);
  });
});

describe('allow lists', () => {
  it('a CI issuer certifies the repositories its allow list names, and no others', async () => {
    expect((await answer(await idp.mint('ci', ciClaims('acme/widgets')))).status).toBe(200);
    expect((await answer(await idp.mint('ci', ciClaims('solo/one')))).status).toBe(200);
    for (const repository of ['evil/widgets', 'acme-evil/widgets', 'solo/one-more']) {
      const a = await answer(await idp.mint('ci', ciClaims(repository)));
      expect(a, repository).toMatchObject({ status: 403 });
      expect(a.message).toContain(`${repository} is not on this CA's allow-list for ${idp.issuer('ci')}`);
    }
  });

  it('an email issuer certifies the addresses its allow list names', async () => {
    const mail = (email: string) => idp.mint('mail', { sub: email, email, email_verified: true });
    expect((await answer(await mail('dev@example.com'), 'dev@example.com')).status).toBe(200);
    const a = await answer(await mail('dev@example.com.evil.org'), 'dev@example.com.evil.org');
    expect(a.status).toBe(403);
  });

  it('an issuer without a list (not a public one) may name anyone', async () => {
    expect((await answer(await idp.mint('open', ciClaims('anyone/anything')))).status).toBe(200);
  });

  it('a configured issuer whose keys cannot be fetched: 503 with Retry-After; an unconfigured one: 401', async () => {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: deadIssuer, aud: 'sigstore', sub: 'x@example.com', iat: now, exp: now + 60 };
    const forged = `${enc({ alg: 'ES256', kid: 'k' })}.${enc(claims)}.${enc('sig')}`;
    const down = await answer(forged, 'x@example.com');
    expect(down.status).toBe(503);
    expect(Number(down.retryAfter)).toBeGreaterThan(0);
    expect(down.message).toContain(deadIssuer);
    const stranger = `${enc({ alg: 'ES256', kid: 'k' })}.${enc({ ...claims, iss: 'https://stranger.example' })}.${enc('sig')}`;
    const refused = await answer(stranger, 'x@example.com');
    expect(refused.status).toBe(401);
    expect(refused.retryAfter).toBeNull();
  });
});
