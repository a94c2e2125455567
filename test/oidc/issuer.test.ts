// The CI identity issuer over HTTP: discovery and JWKS as an OpenID relying party reads them, the GitHub
// Actions token request bound to a runner secret, the claims it mints, and its refusals.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CiIssuer, oidcService, RUNS_FILE, RunnerRegistry } from '../../src/oidc/index.js';
import { lateUrl, oidcStores, type RunningServer, startServer } from '../../src/server/index.js';

const SHA = 'b'.repeat(40);
let server: RunningServer;
let dataDir: string;
let secret: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sigil-oidc-'));
  const url = lateUrl();
  const issuer = await CiIssuer.open(dataDir, url.get, { devMode: false });
  server = await startServer([oidcService(issuer)], { logLevel: 'silent', onUrl: url.set });
  secret = await new RunnerRegistry(oidcStores()(dataDir).runners).add('release', {
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
/** The CI controller's side: starts a run with the runner's secret; the job gets the answer's secret. */
const startRun = (body: Record<string, unknown>, auth?: string) =>
  fetch(`${server.url}/oidc/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body: JSON.stringify(body),
  });
const runSecret = async (body: Record<string, unknown>) => {
  const res = await startRun(body, `bearer ${secret}`);
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { value: string }).value;
};

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

    const run = await runSecret({ sha: SHA, run_id: '5', run_attempt: '3' });
    expect(run).toMatch(/^sigil_run_/);
    const res = await getToken('&audience=sigstore', `bearer ${run}`);
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
    const run = await runSecret({ sha: SHA });
    const res = await getToken(
      '&audience=x&repository=evil/repo&ref=refs/heads/evil&workflow=x.yml',
      `Bearer ${run}`,
    );
    const { value } = (await res.json()) as { value: string };
    const claims = JSON.parse(Buffer.from(value.split('.')[1], 'base64url').toString());
    expect(claims.repository).toBe('acme/widgets');
    expect(claims.ref).toBe('refs/heads/main');
    expect(claims.aud).toBe('x');
  });

  it('refuses requests without a registered secret, and bad run parameters', async () => {
    let res = await getToken('');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/Authorization: bearer/);
    res = await getToken('', 'bearer sigil_runner_wrong');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/not registered/);
    res = await getToken('', 'bearer sigil_run_wrong');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/unknown or has expired/);
    // This runner was registered without a commit: only a run can name one.
    res = await getToken('', `bearer ${secret}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/start-run/);
    const run = await runSecret({ sha: SHA });
    res = await getToken(`&audience=${'a'.repeat(300)}`, `bearer ${run}`);
    expect(res.status).toBe(400);
    for (const body of [{ sha: 'abc' }, { sha: SHA, run_id: 'abc' }, { sha: SHA, event_name: 'Push!' }]) {
      res = await startRun(body, `bearer ${secret}`);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    res = await startRun({ sha: SHA, run_id: 5 }, `bearer ${secret}`);
    expect(res.status).toBe(400);
    res = await startRun({ sha: SHA, repository: 'evil/repo' }, `bearer ${secret}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/unknown field.*repository/);
  });

  it('the job cannot choose its own claims: commit, run, attempt and event come only from the run (#15.2)', async () => {
    const run = await runSecret({ sha: SHA, run_id: '7', event_name: 'workflow_dispatch' });
    for (const forged of [
      `&sha=${'c'.repeat(40)}`,
      '&run_id=1',
      '&run_attempt=9',
      '&run_number=3',
      '&event_name=release',
    ]) {
      for (const who of [run, secret]) {
        const res = await getToken(forged, `bearer ${who}`);
        expect(res.status, forged).toBe(400);
        expect(((await res.json()) as { message: string }).message).toMatch(
          /cannot set .*fixed when it starts/,
        );
      }
    }
    // Only a runner's secret starts runs: a job holding a run's secret cannot start one of its own.
    const res = await startRun({ sha: 'c'.repeat(40) }, `bearer ${run}`);
    expect(res.status).toBe(401);
    const { value } = (await (await getToken('', `bearer ${run}`)).json()) as { value: string };
    const claims = JSON.parse(Buffer.from(value.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sha: SHA, run_id: '7', event_name: 'workflow_dispatch' });
  });

  it("a run's secret stops working when it expires or its runner is removed", async () => {
    const registry = new RunnerRegistry(oidcStores()(dataDir).runners);
    const s3 = await registry.add('short-lived', {
      repository: 'acme/third',
      workflow: '.github/workflows/ci.yml',
      ref: 'refs/heads/main',
      sha: SHA,
    });
    const start = async () => {
      const res = await startRun({}, `bearer ${s3}`);
      expect(res.status).toBe(201);
      return ((await res.json()) as { value: string }).value;
    };
    const expiring = await start();
    expect((await getToken('', `bearer ${expiring}`)).status).toBe(200);
    const runsPath = join(dataDir, RUNS_FILE);
    const file = JSON.parse(await readFile(runsPath, 'utf8')) as { runs: { expires: string }[] };
    for (const r of file.runs) r.expires = new Date(Date.now() - 1000).toISOString();
    await writeFile(runsPath, JSON.stringify(file));
    expect((await getToken('', `bearer ${expiring}`)).status).toBe(401);

    const orphan = await start();
    expect(await registry.remove('short-lived')).toBe(true);
    const res = await getToken('', `bearer ${orphan}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/has been removed/);
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
    const registry = new RunnerRegistry(oidcStores()(dataDir).runners);
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
    const registry = new RunnerRegistry(oidcStores()(dataDir).runners);
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
