// The CI identity issuer over HTTP: discovery and JWKS as an OpenID relying party reads them, the GitHub
// Actions token request bound to a runner secret, the claims it mints, and its refusals.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CiIssuer, oidcService, RunnerRegistry } from '../../src/oidc/index.js';
import { lateUrl, type RunningServer, startServer } from '../../src/server/index.js';

const SHA = 'b'.repeat(40);
let server: RunningServer;
let dataDir: string;
let secret: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sigil-oidc-'));
  const url = lateUrl();
  const issuer = await CiIssuer.open(dataDir, url.get, { devMode: false });
  server = await startServer([oidcService(issuer)], { logLevel: 'silent', onUrl: url.set });
  secret = await new RunnerRegistry(dataDir).add('release', {
    repository: 'acme/widgets',
    workflow: '.github/workflows/release.yml',
    ref: 'refs/heads/main',
    repositoryId: '11',
    repositoryOwnerId: '22',
  });
});
afterAll(async () => {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

const tokenUrl = (extra = '') => `${server.url}/oidc/token?api-version=2.0${extra}`;
const getToken = (extra: string, auth?: string) =>
  fetch(tokenUrl(extra), { headers: auth ? { authorization: auth } : {} });

describe('CI identity issuer', () => {
  it('publishes discovery and a JWKS that verifies its tokens', async () => {
    const doc = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(doc.issuer).toBe(server.url);
    expect(doc.jwks_uri).toBe(`${server.url}/.well-known/jwks`);
    expect(doc.id_token_signing_alg_values_supported).toEqual(['ES256']);
    expect(doc.response_types_supported).toEqual(['id_token']);

    const res = await getToken(`&audience=sigstore&sha=${SHA}&run_id=5&run_attempt=3`, `bearer ${secret}`);
    expect(res.status).toBe(200);
    const { value } = (await res.json()) as { value: string };
    const { payload, protectedHeader } = await jwtVerify(
      value,
      createRemoteJWKSet(new URL(String(doc.jwks_uri))),
      {
        issuer: server.url,
        audience: 'sigstore',
      },
    );
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({
      sub: 'repo:acme/widgets:ref:refs/heads/main',
      repository: 'acme/widgets',
      repository_id: '11',
      repository_owner: 'acme',
      repository_owner_id: '22',
      ref: 'refs/heads/main',
      ref_type: 'branch',
      sha: SHA,
      workflow_ref: 'acme/widgets/.github/workflows/release.yml@refs/heads/main',
      job_workflow_ref: 'acme/widgets/.github/workflows/release.yml@refs/heads/main',
      workflow_sha: SHA,
      job_workflow_sha: SHA,
      run_id: '5',
      run_attempt: '3',
      runner_environment: 'self-hosted',
      repository_visibility: 'private',
      event_name: 'push',
    });
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('binds the identity to the secret: query parameters cannot change repository, workflow or ref', async () => {
    const res = await getToken(
      `&audience=x&sha=${SHA}&repository=evil/repo&ref=refs/heads/evil&workflow=x.yml`,
      `Bearer ${secret}`,
    );
    const { value } = (await res.json()) as { value: string };
    const claims = JSON.parse(Buffer.from(value.split('.')[1], 'base64url').toString());
    expect(claims.repository).toBe('acme/widgets');
    expect(claims.ref).toBe('refs/heads/main');
    expect(claims.aud).toBe('x');
  });

  it('refuses requests without a registered secret, and bad run parameters', async () => {
    let res = await getToken(`&sha=${SHA}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/Authorization: bearer/);
    res = await getToken(`&sha=${SHA}`, 'bearer sigil_runner_wrong');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/not registered/);
    res = await getToken('', `bearer ${secret}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/sha/);
    res = await getToken(`&sha=${SHA}&run_id=abc`, `bearer ${secret}`);
    expect(res.status).toBe(400);
    res = await getToken(`&sha=${SHA}&audience=${'a'.repeat(300)}`, `bearer ${secret}`);
    expect(res.status).toBe(400);
  });

  it('mints tokens for any identity only in dev mode', async () => {
    const res = await fetch(`${server.url}/oidc/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repository: 'any/thing' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(/oidcDevMode/);
  });

  it('picks up runners added or removed while running', async () => {
    const registry = new RunnerRegistry(dataDir);
    const s2 = await registry.add('second', {
      repository: 'acme/other',
      workflow: '.github/workflows/ci.yml',
      ref: 'refs/tags/v1',
      environment: 'prod',
      sha: SHA,
    });
    let res = await getToken('', `bearer ${s2}`);
    expect(res.status).toBe(200);
    const claims = JSON.parse(
      Buffer.from(((await res.json()) as { value: string }).value.split('.')[1], 'base64url').toString(),
    );
    expect(claims.sub).toBe('repo:acme/other:environment:prod');
    expect(claims.environment).toBe('prod');
    expect(claims.ref_type).toBe('tag');
    expect(await registry.remove('second')).toBe(true);
    res = await getToken('', `bearer ${s2}`);
    expect(res.status).toBe(401);
  });

  it('validates runner registrations and never stores the secret itself', async () => {
    const registry = new RunnerRegistry(dataDir);
    await expect(
      registry.add('bad', { repository: 'no-slash', workflow: 'w.yml', ref: 'refs/heads/x' }),
    ).rejects.toThrow(/owner\/name/);
    await expect(registry.add('bad', { repository: 'a/b', workflow: 'w.yml', ref: 'main' })).rejects.toThrow(
      /full git ref/,
    );
    await expect(
      registry.add('release', { repository: 'a/b', workflow: 'w.yml', ref: 'refs/heads/x' }),
    ).rejects.toThrow(/already exists/);
    const file = await import('node:fs/promises').then((fs) =>
      fs.readFile(join(dataDir, 'oidc', 'runners.json'), 'utf8'),
    );
    expect(file).not.toContain(secret);
    // A corrupt-but-present file is an error, not an empty allow-list.
    await writeFile(join(dataDir, 'oidc', 'runners.json'), '{"runners": [');
    await expect(registry.refresh()).rejects.toThrow();
  });
});
