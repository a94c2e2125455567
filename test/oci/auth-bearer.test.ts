// The Bearer token flow (distribution docs/spec/auth/token.md) against distribution's `auth: token`, with a
// token server TEST DOUBLE written here (distribution ships none; a real deployment uses its own auth service,
// and sigil's registry has its own). The double checks Basic credentials and mints the JWT distribution verifies:
// ES256, x5c header chained to the configured root, claims iss/aud/exp/nbf/access.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPKCS8, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, parseReference, RegistryClient } from '../../src/oci/index.js';
import { errorOf, noFiles } from './helpers/client-errors.js';
import { type DockerRegistry, freePort, startDockerRegistry } from './helpers/docker-registry.js';

const USER = 'builder';
const PASSWORD = 'token-pass';
const SERVICE = 'sigil-test-registry';
const ISSUER = 'sigil-test-token-double';

interface TokenRequest {
  user?: string;
  scopes: string[];
  service: string | null;
}

let reg: DockerRegistry;
let tokenServer: Server;
const requests: TokenRequest[] = [];
let expiresIn = 300;

/** Token server test double: Basic-authenticated users get what they ask for, anonymous users get pull only. */
async function startTokenServerDouble(port: number): Promise<{ rootPem: string; server: Server }> {
  // A self-signed P-256 certificate for the token signing key (openssl: it is on every machine the tests run on).
  const dir = await mkdtemp(join(tmpdir(), 'sigil-token-double-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=sigil token server test double',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const keyPem = createPrivateKey(await readFile(join(dir, 'key.pem')))
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const rootPem = await readFile(join(dir, 'cert.pem'), 'utf8');
  await rm(dir, { recursive: true, force: true });
  const signingKey = await importPKCS8(keyPem, 'ES256');
  const x5c = new X509Certificate(rootPem).raw.toString('base64');
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    let user: string | undefined;
    const auth = req.headers.authorization;
    if (auth) {
      const [u, p] = Buffer.from(auth.replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      if (u !== USER || p !== PASSWORD) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        requests.push({ user: u, scopes, service: url.searchParams.get('service') });
        return;
      }
      user = u;
    }
    requests.push({ user, scopes, service: url.searchParams.get('service') });
    const access = scopes.map((s) => {
      const [type, name, actions] = s.split(':');
      const granted = actions.split(',').filter((a) => user || a === 'pull');
      return { type, name, actions: granted };
    });
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [x5c] })
      .setIssuer(ISSUER)
      .setSubject(user ?? '')
      .setAudience(SERVICE)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + expiresIn)
      .setJti(randomUUID())
      .sign(signingKey);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token, expires_in: expiresIn }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { rootPem, server };
}

beforeAll(async () => {
  const port = await freePort();
  const double = await startTokenServerDouble(port);
  tokenServer = double.server;
  reg = await startDockerRegistry({
    token: {
      realm: `http://127.0.0.1:${port}/token`,
      service: SERVICE,
      issuer: ISSUER,
      rootCertPem: double.rootPem,
    },
  });
});
afterAll(async () => {
  await reg?.stop();
  await new Promise((r) => tokenServer?.close(r));
});

describe('Bearer token auth against distribution', () => {
  it('fetches a scoped token with Basic credentials, caches it per scope, and pushes and pulls', async () => {
    requests.length = 0;
    const client = new RegistryClient({ credentials: { username: USER, password: PASSWORD }, env: noFiles });
    const r = parseReference(`${reg.host}/bearer/app`);
    const data = Buffer.from('bearer blob');
    const blob = { digest: digestOf(data), size: data.length, open: () => data };
    expect(await client.uploadBlob(r, blob)).toBe('uploaded');
    expect((await client.getBlobBytes(r, blob.digest)).equals(data)).toBe(true);
    expect(await client.uploadBlob(r, blob)).toBe('existed');
    // One token per scope set: pull (HEAD/GET) and pull,push (POST/PUT), each fetched once and reused.
    expect(requests).toEqual([
      { user: USER, scopes: ['repository:bearer/app:pull'], service: SERVICE },
      { user: USER, scopes: ['repository:bearer/app:pull,push'], service: SERVICE },
    ]);
  });

  it('requests sent together to a registry not yet contacted share one challenge and one token', async () => {
    requests.length = 0;
    const client = new RegistryClient({ credentials: { username: USER, password: PASSWORD }, env: noFiles });
    const r = parseReference(`${reg.host}/bearer/app`);
    // As a verify sends its manifest, `.sig` and referrers lookups: each alone would take a 401 and ask for a token.
    const found = await Promise.all(
      Array.from({ length: 4 }, () => client.blobExists(r, digestOf('bearer blob'))),
    );
    expect(found).toEqual([true, true, true, true]);
    expect(requests).toEqual([{ user: USER, scopes: ['repository:bearer/app:pull'], service: SERVICE }]);
  });

  it('asks for the source repository too when mounting', async () => {
    requests.length = 0;
    const client = new RegistryClient({ credentials: { username: USER, password: PASSWORD }, env: noFiles });
    const data = Buffer.from('mount me');
    const blob = { digest: digestOf(data), size: data.length, open: () => data };
    await client.uploadBlob(parseReference(`${reg.host}/bearer/src`), blob);
    expect(
      await client.uploadBlob(parseReference(`${reg.host}/bearer/dst`), blob, { mountFrom: 'bearer/src' }),
    ).toBe('mounted');
    expect(requests.at(-1)?.scopes.sort()).toEqual([
      'repository:bearer/dst:pull,push',
      'repository:bearer/src:pull',
    ]);
  });

  it('pulls anonymously when the token server allows it, and says credentials are needed to push', async () => {
    const client = new RegistryClient({ env: noFiles });
    const r = parseReference(`${reg.host}/bearer/app`);
    expect(await client.blobExists(r, digestOf('bearer blob'))).toBe(true);
    const data = Buffer.from('anonymous push');
    const err = await errorOf(
      client.uploadBlob(r, { digest: digestOf(data), size: data.length, open: () => data }),
    );
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toMatch(/requires authentication and no credentials were found/);
  });

  it('reports the token server refusing wrong credentials', async () => {
    const client = new RegistryClient({ credentials: { username: USER, password: 'wrong' }, env: noFiles });
    const err = await errorOf(client.ping(reg.host));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toMatch(/token server http:\/\/127\.0\.0\.1:\d+ refused user "builder" \(401\)/);
  });

  it('fetches a new token once the cached one has expired', async () => {
    requests.length = 0;
    expiresIn = 10; // below the client's 10 s renewal margin: every request needs a fresh token
    try {
      const client = new RegistryClient({
        credentials: { username: USER, password: PASSWORD },
        env: noFiles,
      });
      const r = parseReference(`${reg.host}/bearer/app`);
      await client.blobExists(r, digestOf('bearer blob'));
      await client.blobExists(r, digestOf('bearer blob'));
      // Two requests, two tokens (with the usual 300 s lifetime the first test shows one token serving many).
      expect(requests.filter((q) => q.scopes[0] === 'repository:bearer/app:pull')).toHaveLength(2);
    } finally {
      expiresIn = 300;
    }
  });
});
