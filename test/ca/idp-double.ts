// Test double for third-party OpenID providers (Google-style email, GitLab, Kubernetes, generic URI and
// username IdPs) that cannot run here: a real HTTP server on loopback with per-issuer discovery documents and a
// JWKS, minting ES256 tokens. Only the IdP is a double; the CA fetches and verifies exactly as in production.
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, SignJWT } from 'jose';
import { createApp } from '../../src/server/index.js';

export interface TestIdp {
  issuer(name: string): string;
  mint(name: string, claims: Record<string, unknown>, aud?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIdp(names: string[]): Promise<TestIdp> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  const app = createApp({ logLevel: 'silent' });
  let base = '';
  for (const name of names) {
    app.get(`/${name}/.well-known/openid-configuration`, async () => ({
      issuer: `${base}/${name}`,
      jwks_uri: `${base}/${name}/jwks`,
      id_token_signing_alg_values_supported: ['ES256'],
    }));
    app.get(`/${name}/jwks`, async () => ({ keys: [jwk] }));
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    issuer: (name) => `${base}/${name}`,
    async mint(name, claims, aud = 'sigstore') {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
        .setIssuer(`${base}/${name}`)
        .setAudience(aud)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(privateKey);
    },
    close: () => app.close(),
  };
}
