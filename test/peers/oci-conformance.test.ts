// The official OCI distribution-spec conformance suite (opencontainers/distribution-spec conformance/, installed by
// scripts/peers.sh as `oci-conformance`) against `sigil serve registry` on loopback, with a user's credentials
// (anonymous pull is off by default): all four workflows (pull, push, content discovery, content management),
// every data set it has (sha256 and sha512 blobs, indexes, artifacts, subjects and referrers, …), plus the
// optional upload cancel and push-with-tag-parameters APIs. The suite must report 0 failures and 0 errors.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanEnv, freePort } from '../e2e/helpers.js';
import { type PostgresCluster, postgresBin, startPostgres } from '../pg/cluster.js';
import { describePeer, ROOT, runPeer, said } from './peers.js';

const SIGIL = join(ROOT, 'bin', 'sigil.js');
const USER = 'conformance';
const PASSWORD = 'conformance-password';

/** `sigil serve registry` as a child process, ready once GET /v2/ answers (401: auth is on). */
async function serveRegistry(dataDir: string, port: number, database?: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      SIGIL,
      'serve',
      'registry',
      '--data-dir',
      dataDir,
      '--port',
      String(port),
      '--log-level',
      'warn',
      ...(database ? ['--database', database] : []),
    ],
    { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined);
    if (res?.status === 401) return child;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sigil serve registry did not start:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The suite against `sigil serve registry`, its metadata in SQLite or (`database()`) PostgreSQL. */
function conformance(
  title: string,
  database: () => string | undefined,
  setup?: { before(): Promise<void>; after(): void },
) {
  describePeer('oci-conformance', title, (bin) => {
    let dataDir: string;
    let work: string;
    let server: ChildProcess | undefined;
    let port: number;

    beforeAll(async () => {
      await setup?.before();
      dataDir = await mkdtemp(join(tmpdir(), 'sigil-oci-conformance-'));
      work = await mkdtemp(join(tmpdir(), 'sigil-oci-conformance-work-'));
      const add = await runPeer(
        process.execPath,
        [SIGIL, 'registry', 'add-user', USER, '--data-dir', dataDir, '--password-stdin'],
        cleanEnv(),
        { input: PASSWORD },
      );
      expect(add.code, said(add)).toBe(0);
      port = await freePort();
      server = await serveRegistry(dataDir, port, database());
    });

    afterAll(async () => {
      if (server && server.exitCode === null) {
        const exited = new Promise((r) => server?.once('exit', r));
        server.kill('SIGTERM');
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
      setup?.after();
    });

    it('passes all four workflows with 0 failures', { timeout: 300_000 }, async () => {
      const env = {
        PATH: process.env.PATH,
        HOME: work,
        OCI_REGISTRY: `127.0.0.1:${port}`,
        OCI_TLS: 'disabled',
        OCI_VERSION: '1.1',
        OCI_REPO1: 'conformance/repo1',
        OCI_REPO2: 'conformance/repo2',
        OCI_USERNAME: USER,
        OCI_PASSWORD: PASSWORD,
        OCI_RESULTS_DIR: join(work, 'results'),
        // The four workflows (the v1.1.x suite's OCI_TEST_PULL/PUSH/CONTENT_DISCOVERY/CONTENT_MANAGEMENT).
        OCI_API_PULL: 'true',
        OCI_API_PUSH: 'true',
        OCI_API_TAGS_LIST: 'true',
        OCI_API_REFERRER: 'true',
        OCI_API_TAGS_DELETE: 'true',
        OCI_API_MANIFESTS_DELETE: 'true',
        OCI_API_BLOBS_DELETE: 'true',
        // Optional APIs sigil has: cancelling an upload (end-14), pushing by digest with ?tag= (end-7).
        OCI_API_BLOBS_UPLOAD_CANCEL: 'true',
        OCI_API_MANIFESTS_TAG_PARAM: 'true',
      };
      const r = await runPeer(bin, [], env, { cwd: work, timeoutMs: 280_000 });
      const summary = (label: string) =>
        r.stdout.match(new RegExp(`^\\s*${label}\\.*:\\s*(\\S+)\\s*$`, 'm'))?.[1];
      expect(r.stdout, said(r)).toMatch(/^OCI Conformance Result: Pass$/m);
      expect(summary('FAIL'), said(r)).toBe('0');
      expect(summary('Error'), said(r)).toBe('0');
      expect(Number(summary('Pass'))).toBeGreaterThan(900);
      expect(r.code, said(r)).toBe(0);
      // Each API group ran and passed (not disabled or skipped); anonymous mount (without `from`, a MAY) is the
      // one group sigil leaves to the spec's fallback, an ordinary upload session.
      for (const group of [
        'Ping',
        'Blob push',
        'Blob post only',
        'Blob post put',
        'Blob chunked',
        'Blob streaming',
        'Blob mount',
        'Blob get range',
        'Blob upload cancel',
        'Blob delete',
        'Manifest put by digest',
        'Manifest put by tag',
        'Manifest put with tag params',
        'Manifest put with subject',
        'Manifest delete',
        'Tag listing',
        'Tag delete',
        'Referrers',
        'Blobs sha512',
        'Digest Algorithm sha512',
      ]) {
        expect(summary(group), group).toBe('Pass');
      }
      // The machine-readable report says the same: no API or data test failed.
      const results = await readFile(join(work, 'results', 'results.yaml'), 'utf8');
      expect(results).toMatch(/^apis:$/m);
      expect(results).not.toMatch(/: (FAIL|Error)$/im);
    });
  });
}

conformance('the OCI distribution-spec conformance suite against sigil serve registry', () => undefined);

// The same with the registry's metadata in PostgreSQL (#17): a throwaway cluster, `--database`.
let cluster: PostgresCluster | undefined;
if (postgresBin())
  conformance(
    'the OCI distribution-spec conformance suite against sigil serve registry, metadata in PostgreSQL',
    () => cluster?.url,
    {
      async before() {
        cluster = await startPostgres();
      },
      after() {
        cluster?.destroy();
      },
    },
  );
