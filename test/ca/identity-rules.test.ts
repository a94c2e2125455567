// The remaining identity and request rules, each with a request that breaks only that rule: an issuer whose
// discovery names someone else, identity claims that cannot become a SAN, conflicting request shapes, and a
// ca-config.json that is not valid. Third-party IdPs are the named test double from idp-double.ts.
import { sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCaConfig } from '../../src/ca/index.js';
import { createApp } from '../../src/server/index.js';
import { devToken, newKey, type RunningCa, requestCert, startCa, subOf } from './helpers.js';
import { startTestIdp, type TestIdp } from './idp-double.js';

let ca: RunningCa;
let idp: TestIdp;
let liar: Awaited<ReturnType<typeof startLiar>>;

/** An IdP double whose discovery document claims to be a different issuer. */
async function startLiar() {
  const app = createApp({ logLevel: 'silent' });
  app.get('/.well-known/openid-configuration', async () => ({
    issuer: 'https://someone-else.example',
    jwks_uri: 'http://127.0.0.1:1/jwks',
  }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    close: () => app.close(),
  };
}

beforeAll(async () => {
  idp = await startTestIdp(['k8s', 'user']);
  liar = await startLiar();
  ca = await startCa({
    config: {
      issuers: [
        { issuerUrl: idp.issuer('k8s'), type: 'kubernetes', clientId: 'sigstore' },
        {
          issuerUrl: idp.issuer('user'),
          type: 'username',
          clientId: 'sigstore',
          subjectDomain: 'example.com',
        },
        { issuerUrl: liar.url, type: 'email', clientId: 'sigstore' },
      ],
    },
  });
});
afterAll(async () => {
  await ca.stop();
  await idp.close();
  await liar.close();
});

async function refusal(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { message: string }).message];
}

describe('issuer and identity rules', () => {
  it('refuses an issuer whose discovery document names another issuer', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'x' })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const body = Buffer.from(
      JSON.stringify({ iss: liar.url, aud: 'sigstore', sub: 'x', iat: now, exp: now + 60 }),
    ).toString('base64url');
    const [status, message] = await refusal(await requestCert(ca.url, `${header}.${body}.AAAA`));
    expect(status).toBe(503);
    expect(message).toMatch(/names a different issuer/);
  });

  it('refuses Kubernetes tokens without namespace and service account', async () => {
    const tok = await idp.mint('k8s', {
      sub: 'system:serviceaccount:x:y',
      'kubernetes.io': { namespace: 'x' },
    });
    const [status, message] = await refusal(await requestCert(ca.url, tok));
    expect(status).toBe(401);
    expect(message).toMatch(/serviceaccount/);
  });

  it('refuses usernames with ! or shaped like email addresses', async () => {
    let [status, message] = await refusal(await requestCert(ca.url, await idp.mint('user', { sub: 'a!b' })));
    expect([status, message]).toEqual([400, 'username cannot contain the ! character']);
    [status, message] = await refusal(
      await requestCert(ca.url, await idp.mint('user', { sub: 'a@b.example' })),
    );
    expect(status).toBe(400);
    expect(message).toMatch(/email/);
  });

  it('refuses identities that cannot be written as an ASCII URI SAN', async () => {
    const tok = await devToken(ca.url, {
      claims: { job_workflow_ref: 'acme/wïdgets/.github/workflows/x.yml@refs/heads/main' },
    });
    const [status, message] = await refusal(await requestCert(ca.url, tok));
    expect(status).toBe(400);
    expect(message).toMatch(/ASCII/);
  });

  it('refuses a request carrying both a CSR and a public key', async () => {
    const tok = await devToken(ca.url);
    const key = newKey();
    const res = await fetch(`${ca.url}/api/v2/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        credentials: { oidcIdentityToken: tok },
        certificateSigningRequest: Buffer.from('x').toString('base64'),
        publicKeyRequest: {
          publicKey: { content: key.pem },
          proofOfPossession: sign('sha256', Buffer.from(subOf(tok)), key.privateKey).toString('base64'),
        },
      }),
    });
    const [status, message] = await refusal(res);
    expect(status).toBe(400);
    expect(message).toMatch(/either publicKeyRequest or certificateSigningRequest/);
  });

  it('accepts the token in an Authorization header for v2 too', async () => {
    const tok = await devToken(ca.url);
    const key = newKey();
    const res = await fetch(`${ca.url}/api/v2/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
      body: JSON.stringify({
        publicKeyRequest: {
          publicKey: { content: key.pem },
          proofOfPossession: sign('sha256', Buffer.from(subOf(tok)), key.privateKey).toString('base64'),
        },
      }),
    });
    expect(res.status).toBe(200);
  });
});

describe('ca-config.json', () => {
  it('names what is wrong', () => {
    expect(() => parseCaConfig('x')).toThrow(/not a JSON object/);
    expect(() => parseCaConfig({ issuers: [{ issuerUrl: 'ftp://x', type: 'email' }] })).toThrow(
      /issuers\[0\]: issuerUrl/,
    );
    expect(() => parseCaConfig({ issuers: [{ issuerUrl: 'https://x', type: 'magic' }] })).toThrow(
      /type must be one of/,
    );
    expect(() => parseCaConfig({ issuers: [{ issuerUrl: 'https://x', type: 'uri' }] })).toThrow(
      /subjectDomain/,
    );
    const fulcioShape = parseCaConfig({
      OIDCIssuers: {
        'https://accounts.example': {
          IssuerURL: 'https://accounts.example',
          ClientID: 'sigstore',
          Type: 'email',
        },
      },
    });
    expect(fulcioShape.issuers).toEqual([
      expect.objectContaining({ issuerUrl: 'https://accounts.example', clientId: 'sigstore', type: 'email' }),
    ]);
  });
});
