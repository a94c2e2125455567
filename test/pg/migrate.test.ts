// `sigil db migrate --from-sqlite DIR --to postgres://…` (#17): an embedded deployment that signed an image is
// stopped, migrated into an empty PostgreSQL database, and started again with --database: the Rekor v1 and v2
// logs and the CT tree have the same sizes and roots as before, the signed image still verifies, a new entry
// extends the old tree consistently. Migrating into a database that already holds a deployment is refused.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runSigil } from '../../src/demo/index.js';
import { verifyConsistency } from '../../src/merkle/index.js';
import { cleanEnv } from '../e2e/helpers.js';
import { addRunner, CLI, idToken, REPOSITORY, startUp, type Up, WORKFLOW } from '../hostile/stack.js';
import { type PostgresCluster, startPostgres } from './cluster.js';
import { describePostgres } from './suite.js';

const ROOT = join(import.meta.dirname, '..', '..');
const IDENTITY = `https://github.com/${REPOSITORY}/${WORKFLOW}@refs/heads/main`;
const hex = (s: string) => Buffer.from(s, 'hex');

interface Heads {
  v1: { treeSize: number; rootHash: string };
  v2: string;
  ct: { tree_size: number; sha256_root_hash: string };
}

async function heads(url: string): Promise<Heads> {
  const v1 = (await (await fetch(`${url}/api/v1/log`)).json()) as Heads['v1'];
  const v2 = (await (await fetch(`${url}/api/v2/checkpoint`)).text()).split('\n').slice(1, 3).join('\n');
  const ct = (await (await fetch(`${url}/ct/v1/get-sth`)).json()) as Heads['ct'];
  return {
    v1: { treeSize: v1.treeSize, rootHash: v1.rootHash },
    v2,
    ct: { tree_size: ct.tree_size, sha256_root_hash: ct.sha256_root_hash },
  };
}

async function migrate(dataDir: string, database: string) {
  return runSigil(CLI, ['db', 'migrate', '--from-sqlite', dataDir, '--to', database], {
    env: cleanEnv(),
    cwd: ROOT,
    echo: new Writable({ write: (_chunk, _encoding, done) => done() }),
    timeoutMs: 120_000,
  });
}

describePostgres('sigil db migrate --from-sqlite (#17)', () => {
  let cluster: PostgresCluster;
  let dataDir: string;
  let up: Up | undefined;

  beforeAll(async () => {
    cluster = await startPostgres();
    dataDir = await mkdtemp(join(tmpdir(), 'sigil-migrate-'));
  }, 60_000);

  afterAll(async () => {
    await up?.stop();
    cluster?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('moves logs, CT tree and queue, and registry metadata; roots identical; the signed image still verifies', async () => {
    // An embedded deployment that has signed an image.
    up = await startUp({ dataDir });
    const tag = `${up.stack.endpoints.registry}/acme/migrated:latest`;
    const image = (
      await up.sigil(['image', 'build', join(ROOT, 'examples/django-keyless'), '-t', tag])
    ).trim();
    const token = await idToken(up.url, await addRunner(up, 'migrate'));
    await up.sigil(['sign', '--yes', '--identity-token', token, image]);
    // Wait for the CT tree to merge the certificate's entry (it runs a little behind the queue).
    let before = await heads(up.url);
    for (let i = 0; i < 50 && before.ct.tree_size < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      before = await heads(up.url);
    }
    expect(before.v1.treeSize).toBeGreaterThan(0);
    expect(before.ct.tree_size).toBeGreaterThan(0);
    const issuer = up.url;
    await up.stop();
    up = undefined;

    const database = await cluster.createDatabase('migrated');
    const r = await migrate(dataDir, database);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`log: ${before.v1.treeSize} entries, root ${before.v1.rootHash}`);
    expect(r.stdout).toMatch(/ct queue: \d+ entries/);
    expect(r.stdout).toMatch(/registry metadata: [1-9]\d* rows/);
    expect(r.stdout).toContain('ci runners: 1');

    up = await startUp({ dataDir, args: ['--database', database] });
    const after = await heads(up.url);
    expect(after).toEqual(before);
    // The lookup rows came along: the signature's entry is found by its signer and then by its UUID.
    const found = (await (
      await fetch(`${up.url}/api/v1/index/retrieve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ subject: IDENTITY }),
      })
    ).json()) as string[];
    expect(found).toHaveLength(1);
    expect((await fetch(`${up.url}/api/v1/log/entries/${found[0]}`)).status).toBe(200);
    // Signed with a token of the issuer as it was then (port 0 gave the restarted stack another URL).
    const verify = ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', issuer];
    const digest = image.split('@')[1];
    const moved = `${up.stack.endpoints.registry}/acme/migrated@${digest}`;
    expect(await up.sigil(['verify', moved, ...verify])).toContain(digest);
    // The tree goes on from where SQLite left it.
    const token2 = await idToken(up.url, await addRunner(up, 'migrate-2'));
    const blob = join(dataDir, 'blob.txt');
    await writeFile(blob, 'after the migration\n');
    await up.sigil([
      'sign-blob',
      '--yes',
      '--identity-token',
      token2,
      '--bundle',
      `${blob}.sigstore.json`,
      blob,
    ]);
    const now = await heads(up.url);
    expect(now.v1.treeSize).toBeGreaterThan(before.v1.treeSize);
    const proof = (await (
      await fetch(`${up.url}/api/v1/log/proof?firstSize=${before.v1.treeSize}&lastSize=${now.v1.treeSize}`)
    ).json()) as { hashes: string[] };
    expect(
      verifyConsistency(
        before.v1.treeSize,
        now.v1.treeSize,
        hex(before.v1.rootHash),
        hex(now.v1.rootHash),
        proof.hashes.map(hex),
      ),
    ).toBe(true);
  }, 240_000);

  it('refuses a database that already holds a deployment, and an unreachable one, in one line', async () => {
    const again = await migrate(dataDir, `${cluster.url.replace(/\/sigil$/, '/migrated')}`);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already holds .*migrate into an empty database/);
    // A database whose tables a newer sigil wrote is refused, not written wrongly: one line, non-zero exit.
    const newer = await cluster.createDatabase('newer_schema');
    const c = new pg.Client({ connectionString: newer });
    await c.connect();
    await c.query(`CREATE SCHEMA sigil_log; CREATE TABLE sigil_log.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO sigil_log.meta VALUES ('schema_version', '99')`);
    await c.end();
    const refused = await runSigil(
      CLI,
      ['serve', 'log', '--data-dir', dataDir, '--port', '0', '--database', newer],
      {
        env: cleanEnv(),
        cwd: ROOT,
        echo: new Writable({ write: (_c, _e, done) => done() }),
        timeoutMs: 30_000,
      },
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /sigil_log tables are of schema version 99, newer than this sigil's 2: upgrade sigil/,
    );
    const nowhere = await migrate(dataDir, 'postgres://sigil@127.0.0.1:1/none');
    expect(nowhere.code).not.toBe(0);
    expect(nowhere.stderr.trim().split('\n')).toHaveLength(1);
    expect(nowhere.stderr).toMatch(/cannot use the database/);
  }, 60_000);
});
