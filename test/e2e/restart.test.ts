// `sigil up` across a restart, through the real CLI as child processes: sign on a fresh data dir, stop the stack
// with SIGTERM (it must exit 0), start it again on the same data dir and port, and the old signature still
// verifies, the old log entry still proves inclusion (and the log's new checkpoint is consistent with the one the
// client remembered), the runner's secret still works, and the next entry gets the next index.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Cli,
  parseBuiltImage,
  parseLogIndex,
  parseRunnerEnv,
  type RunResult,
  runSigil,
  type StackProcess,
  startStackProcess,
  workflowIdentity,
} from '../../src/demo/index.js';
import { cleanEnv, freePort } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI: Cli = { node: process.execPath, script: join(ROOT, 'bin', 'sigil.js') };
const EXAMPLE = join(ROOT, 'examples', 'django-keyless');
const REPOSITORY = 'acme/django-keyless';
const SHA = 'c0ffee'.repeat(7).slice(0, 40);
/** Output is checked, not shown; a failing step's output is in the assertion message. */
const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });

describe('sigil up restart', () => {
  let dataDir: string;
  let stack: StackProcess | undefined;

  afterAll(async () => {
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps keys, log and registry across SIGTERM and a restart; new entries get the next index', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sigil-restart-'));
    const port = await freePort();
    const upArgs = ['--data-dir', dataDir, '--port', String(port), '--log-level', 'warn'];
    const start = () =>
      startStackProcess(CLI, upArgs, {
        env: cleanEnv(),
        cwd: ROOT,
        echo: quiet,
        timeoutMs: 60_000,
        dataDir,
      });
    stack = await start();
    const first = stack.endpoints;
    const env = cleanEnv(first.env);
    const sigil = async (args: string[], extra: Record<string, string> = {}): Promise<RunResult> =>
      runSigil(CLI, args, { env: { ...env, ...extra }, cwd: ROOT, echo: quiet, timeoutMs: 60_000 });
    const ok = async (args: string[], extra: Record<string, string> = {}) => {
      const r = await sigil(args, extra);
      expect(r.code, `sigil ${args.join(' ')}\n${r.output}`).toBe(0);
      return r;
    };
    const tag = `${first.registry}/${REPOSITORY}:latest`;
    const verifyArgs = (ref: string) => [
      'verify',
      ref,
      '--certificate-identity',
      workflowIdentity(REPOSITORY),
      '--certificate-oidc-issuer',
      first.url,
    ];

    const image = parseBuiltImage((await ok(['image', 'build', EXAMPLE, '-t', tag])).stdout);
    const runner = parseRunnerEnv(
      (
        await ok([
          'oidc',
          'add-runner',
          '--repository',
          REPOSITORY,
          '--workflow',
          '.github/workflows/docker-publish.yml',
          '--ref',
          'refs/heads/main',
          '--sha',
          SHA,
        ])
      ).stdout,
    );
    expect(parseLogIndex((await ok(['sign', '--yes', image], runner)).output)).toBe(0);
    await ok(['log', 'verify', '--log-index', '0']);
    const rootBefore = await readFile(join(dataDir, 'trusted_root.json'), 'utf8');

    // SIGTERM: a clean shutdown exits 0.
    expect(await stack.stop()).toBe(0);
    stack = undefined;
    expect((await fetch(`${first.url}/healthz`).catch(() => undefined))?.status).toBeUndefined();

    stack = await start();
    expect(stack.endpoints.url).toBe(first.url);
    expect(await readFile(join(dataDir, 'trusted_root.json'), 'utf8')).toBe(rootBefore);
    // The image, its signature and its log entry are all still there.
    const verified = await ok(verifyArgs(tag));
    expect(verified.stdout).toContain(image.split('@')[1]);
    const proof = await ok(['log', 'verify', '--log-index', '0']);
    expect(proof.output).toContain('Consistent with the log');

    // The runner's secret survived too; the next entry is index 1, provable, and the first is still provable.
    const second = parseBuiltImage(
      (await ok(['image', 'build', join(EXAMPLE, 'hello'), '-t', `${first.registry}/${REPOSITORY}:v2`]))
        .stdout,
    );
    expect(parseLogIndex((await ok(['sign', '--yes', second], runner)).output)).toBe(1);
    const got = await ok(['log', 'get', '--log-index', '1']);
    expect(got.stdout).toMatch(/^Index: 1$/m);
    const proof1 = await ok(['log', 'verify', '--log-index', '1']);
    expect(proof1.stdout).toMatch(/^Current Tree Size: 2$/m);
    await ok(verifyArgs(second));
    await ok(['log', 'verify', '--log-index', '0']);

    // Sanity of the negative side: another identity does not verify.
    const wrong = await sigil([
      'verify',
      tag,
      '--certificate-identity',
      workflowIdentity('acme/other'),
      '--certificate-oidc-issuer',
      first.url,
    ]);
    expect(wrong.code).not.toBe(0);

    expect(await stack.stop()).toBe(0);
    stack = undefined;
  }, 240_000);
});
