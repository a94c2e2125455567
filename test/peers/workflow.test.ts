// The example's GitHub workflow (examples/django-keyless/.github/workflows/docker-publish.yml, the tutorial's steps:
// sigstore/cosign-installer, `cosign initialize`, `cosign sign --yes IMAGE@DIGEST`, `cosign verify`) run against a
// real `sigil up`: its `run:` scripts are read from the workflow file and executed by bash with the values GitHub
// would give them. Stand-ins, named as such: `sigil image build` for docker/build-push-action (it prints the
// digest), the real cosign v3 for cosign-installer, sigil's CI issuer (a registered runner) for GitHub's token
// service, so the verify step's `https://token.actions.githubusercontent.com` is read as sigil's issuer URL.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bash } from '../e2e/helpers.js';
import { describePeer, PEERS_BIN, type PeerStack, REPOSITORY, ROOT, startPeerStack } from './peers.js';

const WORKFLOW = join(ROOT, 'examples/django-keyless/.github/workflows/docker-publish.yml');

/** The `run:` script of the step named `name` (a one-line `run: cmd` or a `run: |` block), de-indented. */
function stepScript(yaml: string, name: string): string {
  const lines = yaml.split('\n');
  const start = lines.findIndex((l) => l.trim() === `- name: ${name}`);
  if (start < 0) throw new Error(`no step named "${name}"`);
  for (let i = start + 1; i < lines.length && !lines[i].trim().startsWith('- '); i++) {
    const m = /^(\s*)run:\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    if (m[2] !== '|') return m[2];
    const body: string[] = [];
    for (let j = i + 1; j < lines.length; j++) {
      const indent = /^(\s*)/.exec(lines[j])?.[1].length ?? 0;
      if (lines[j].trim() && indent <= m[1].length) break;
      body.push(lines[j]);
    }
    const min = Math.min(...body.filter((l) => l.trim()).map((l) => /^(\s*)/.exec(l)![1].length));
    return body.map((l) => l.slice(min)).join('\n');
  }
  throw new Error(`step "${name}" has no run:`);
}

describePeer('cosign3', 'the example workflow’s cosign steps against sigil', () => {
  let s: PeerStack;

  beforeAll(async () => {
    s = await startPeerStack();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('initializes from sigil’s TUF repository, signs the pushed digest and verifies the workflow identity', async () => {
    const yaml = await readFile(WORKFLOW, 'utf8');
    expect(yaml).toContain('uses: sigstore/cosign-installer@v3');
    const image = await s.pushImage('workflow', 'built by the workflow');
    const [registryAndRepo, digest] = image.split('@');
    const root = join(s.dataDir, 'tuf', 'repository', '1.root.json');
    const github = {
      '${{ github.workflow_ref }}': `${REPOSITORY}/.github/workflows/docker-publish.yml@refs/heads/main`,
      '${{ github.repository }}': REPOSITORY,
      // The runner the stack registered reports this commit.
      '${{ github.sha }}': '0123456789abcdef0123456789abcdef01234567',
      'https://token.actions.githubusercontent.com': s.url,
    };
    const script = (name: string) =>
      Object.entries(github).reduce((t, [k, v]) => t.split(k).join(v), stepScript(yaml, name));
    const env = {
      ...s.env,
      PATH: `${PEERS_BIN}:${process.env.PATH}`,
      REGISTRY: s.registry,
      IMAGE_NAME: registryAndRepo.slice(s.registry.length + 1),
      DIGEST: digest,
      SIGIL_URL: s.url,
      SIGIL_ROOT_CHECKSUM: createHash('sha256')
        .update(await readFile(root))
        .digest('hex'),
    };
    const steps = ['Trust the sigil instance', 'Sign the published Docker image', 'Verify the signature'];
    for (const name of steps) {
      const r = await bash(`set -euo pipefail\n${script(name)}`, { cwd: s.work, env, timeoutMs: 90_000 });
      expect(r.code, `${name}:\n${script(name)}\n${r.output}`).toBe(0);
    }

    // The same verify step refuses another repository's workflow and a wrong root checksum refuses to initialize.
    const wrongRepo = script('Verify the signature').replace(`${REPOSITORY}/.github`, 'evil/repo/.github');
    expect((await bash(wrongRepo, { cwd: s.work, env, timeoutMs: 90_000 })).code).not.toBe(0);
    const badRoot = await bash(script('Trust the sigil instance'), {
      cwd: s.work,
      env: { ...env, SIGIL_ROOT_CHECKSUM: '0'.repeat(64), TUF_ROOT: join(s.work, 'tuf-bad') },
      timeoutMs: 90_000,
    });
    expect(badRoot.code, badRoot.output).not.toBe(0);
    expect(badRoot.output).toContain('incorrect checksum');
  });
});
