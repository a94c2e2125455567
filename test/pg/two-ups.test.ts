// Two whole `sigil up` frontends on one PostgreSQL and one shared data dir (#17): every service answers on both;
// the logs' and the CT tree's sequencer is whichever frontend won the election, and the other forwards to it or
// queues through the database. The README's flow (build, push, keyless sign, verify, rekor-cli-style log get and
// verify) runs entirely through the second frontend and is verified through the first; sigstore-js signs
// through the second and verifies with the trust root the first serves; the CT log's tree holds every
// certificate either frontend issued.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { sign } from 'sigstore';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTrustedRoot } from '../../src/trust/index.js';
import {
  addRunner,
  idToken,
  REPOSITORY,
  registryCredentials,
  registryToken,
  startUp,
  type Up,
  WORKFLOW,
} from '../hostile/stack.js';
import { type PostgresCluster, startPostgres } from './cluster.js';
import { describePostgres } from './suite.js';

const ROOT = join(import.meta.dirname, '..', '..');
const IDENTITY = `https://github.com/${REPOSITORY}/${WORKFLOW}@refs/heads/main`;

describePostgres('two `sigil up` frontends on one PostgreSQL (#17)', () => {
  let cluster: PostgresCluster;
  let dataDir: string;
  let a: Up;
  let b: Up;

  beforeAll(async () => {
    cluster = await startPostgres();
    const database = await cluster.createDatabase('two_ups');
    dataDir = await mkdtemp(join(tmpdir(), 'sigil-two-ups-'));
    const args = ['--database', database];
    // The first frontend makes the keys and the tables, and is elected; the second joins it.
    a = await startUp({ args, dataDir });
    b = await startUp({ args, dataDir });
  }, 180_000);

  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    cluster?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('the README flow through the second frontend: build, push, sign, verify, log get and verify', async () => {
    const tag = `${b.stack.endpoints.registry}/acme/frontends:latest`;
    const image = (
      await b.sigil(['image', 'build', join(ROOT, 'examples/django-keyless'), '-t', tag])
    ).trim();
    expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
    const secret = await addRunner(b, 'frontend-b');
    const token = await idToken(b.url, secret);
    await b.sigil(['sign', '--yes', '--identity-token', token, image]);
    const verify = [
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      b.url,
      '--output',
      'text',
    ];
    expect(await b.sigil(['verify', tag, ...verify])).toContain(
      `"docker-manifest-digest":"${image.split('@')[1]}"`,
    );
    // The same signature read back through the first frontend's registry and log.
    const viaA = `${a.stack.endpoints.registry}/acme/frontends@${image.split('@')[1]}`;
    // One login for both (the shared data dir's registry-auth.json names the last frontend's host).
    const [user, password] = (await registryCredentials(a)).split(':');
    const login = ['--registry-username', user, '--registry-password', password];
    expect(await a.sigil(['verify', viaA, ...verify, ...login])).toContain(
      `"docker-manifest-digest":"${image.split('@')[1]}"`,
    );
    // Its entry (the newest: nothing else signs meanwhile) read and proven through the other frontend with
    // rekor-cli's verbs.
    const size = ((await (await fetch(`${b.url}/api/v1/log`)).json()) as { treeSize: number }).treeSize;
    const index = String(size - 1);
    expect(await a.sigil(['log', 'get', '--log-index', index])).toContain(`Index: ${index}`);
    const proven = await a.sigil(['log', 'verify', '--log-index', index]);
    const computed = /Computed Root Hash: ([0-9a-f]{64})/.exec(proven)?.[1];
    expect(computed).toBeDefined();
    expect(proven).toContain(`Expected Root Hash: ${computed}`);
  }, 180_000);

  it('sigstore-js signs through the second frontend and verifies with the trust root the first serves', async () => {
    const token = await idToken(b.url, await addRunner(b, 'sigstore-js'));
    const artifact = Buffer.from('two frontends, one log\n');
    const bundle = await sign(artifact, {
      fulcioURL: b.url,
      rekorURL: b.url,
      identityToken: token,
      retry: 0,
    });
    const root = await fetch(`${a.url}/tuf/targets/trusted_root.json`).then(async (r) =>
      r.ok ? r.json() : JSON.parse(await readFile(join(dataDir, 'trusted_root.json'), 'utf8')),
    );
    const verifier = new Verifier(toTrustMaterial(parseTrustedRoot(root)));
    const policy = { subjectAlternativeName: IDENTITY, extensions: { issuer: b.url } };
    const signer = verifier.verify(toSignedEntity(bundleFromJSON(bundle), artifact), policy);
    expect(signer.identity?.subjectAlternativeName).toBe(IDENTITY);
    expect(() =>
      verifier.verify(toSignedEntity(bundleFromJSON(bundle), Buffer.from('other bytes')), policy),
    ).toThrow();
    // The entry is served by the first frontend too, at the index the bundle names.
    const index = bundle.verificationMaterial.tlogEntries[0].logIndex;
    const entry = await fetch(`${a.url}/api/v1/log/entries?logIndex=${index}`);
    expect(entry.status).toBe(200);
  }, 120_000);

  it('CI runs started through both frontends at once are all kept (runners and runs in the database)', async () => {
    // Registered with `sigil oidc` in the shell of the second frontend (its env file names the database)…
    const runner = await addRunner(b, 'concurrent-runs');
    // …and used through both: twenty runs started at once, half through each frontend.
    const started = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const r = await fetch(`${(i % 2 ? a : b).url}/oidc/runs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${runner}`, 'content-type': 'application/json' },
          body: JSON.stringify({ run_id: String(1000 + i) }),
        });
        expect(r.status).toBe(201);
        return ((await r.json()) as { value: string }).value;
      }),
    );
    // Every run's secret gets a token, from either frontend: none was lost to another's write.
    for (const [i, run] of started.entries()) {
      const token = await idToken((i % 2 ? b : a).url, run);
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
      expect(claims.run_id).toBe(String(1000 + i));
    }
  }, 60_000);

  it('a chunked blob upload moves between frontends chunk by chunk and lands whole', async () => {
    const credentials = await registryCredentials(a);
    const scope = ['repository:acme/chunks:pull,push'];
    const auth = async (up: Up) => ({
      authorization: `Bearer ${await registryToken(up.url, credentials, scope)}`,
    });
    const data = Buffer.concat([
      Buffer.alloc(300_000, 1),
      Buffer.alloc(300_000, 2),
      Buffer.alloc(100_000, 3),
    ]);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const started = await fetch(`${a.url}/v2/acme/chunks/blobs/uploads/`, {
      method: 'POST',
      headers: await auth(a),
    });
    expect(started.status).toBe(202);
    let location = started.headers.get('location') as string;
    // Chunks through b, a and b again (each frontend sees what the other stored), the PUT through a.
    const chunks: [Up, number, number][] = [
      [b, 0, 300_000],
      [a, 300_000, 600_000],
      [b, 600_000, 700_000],
    ];
    for (const [up, from, to] of chunks) {
      const r = await fetch(new URL(location, up.url), {
        method: 'PATCH',
        headers: {
          ...(await auth(up)),
          'content-type': 'application/octet-stream',
          'content-range': `${from}-${to - 1}`,
        },
        body: data.subarray(from, to),
      });
      expect(r.status, await r.text()).toBe(202);
      expect(r.headers.get('range')).toBe(`0-${to - 1}`);
      location = r.headers.get('location') as string;
    }
    const put = new URL(location, a.url);
    put.searchParams.set('digest', digest);
    const done = await fetch(put, { method: 'PUT', headers: await auth(a) });
    expect(done.status, await done.text()).toBe(201);
    const read = await fetch(`${b.url}/v2/acme/chunks/blobs/${digest}`, { headers: await auth(b) });
    expect(read.status).toBe(200);
    expect(Buffer.from(await read.arrayBuffer()).equals(data)).toBe(true);
  }, 60_000);

  it('certificates issued by either frontend land in the one CT tree', async () => {
    for (const up of [a, b]) {
      const token = await idToken(up.url, await addRunner(up, `ct-${up.url.split(':').pop()}`));
      await sign(Buffer.from(`ct ${up.url}`), {
        fulcioURL: up.url,
        rekorURL: up.url,
        identityToken: token,
        retry: 0,
      });
    }
    // Each precertificate queued (the two tests above and these two: at least 4), merged within a few seconds.
    const sth = async (url: string) =>
      (await (await fetch(`${url}/ct/v1/get-sth`)).json()) as { tree_size: number; sha256_root_hash: string };
    let heads = [await sth(a.url), await sth(b.url)];
    for (let i = 0; i < 50 && (heads[0].tree_size < 4 || heads[0].tree_size !== heads[1].tree_size); i++) {
      await new Promise((r) => setTimeout(r, 200));
      heads = [await sth(a.url), await sth(b.url)];
    }
    expect(heads[0].tree_size).toBeGreaterThanOrEqual(4);
    expect(heads[1].sha256_root_hash).toBe(heads[0].sha256_root_hash);
    const entries = await fetch(`${b.url}/ct/v1/get-entries?start=0&end=${heads[0].tree_size - 1}`);
    expect(((await entries.json()) as { entries: unknown[] }).entries).toHaveLength(heads[0].tree_size);
  }, 120_000);
});
