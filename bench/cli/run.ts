// Wall time of `sigil sign` (keyless) and `sigil verify` of one image against the local stack, process start
// included, as a user or CI job sees it. The stack is `sigil up` in its own process (dev-mode issuer for tokens);
// each timed run is a fresh `node bin/sigil.js …` process signing (then verifying) a distinct image by digest.
// `node -e 0` is timed the same way as the floor no CLI can beat on this machine.
//
// Usage: npm run build && npx tsx bench/cli/run.ts [runs=20]
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST, RegistryClient } from '../../src/oci/index.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const SIGIL = join(ROOT, 'bin/sigil.js');
const RUNS = Number(process.argv[2] ?? 20);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForEndpoints(
  dataDir: string,
): Promise<{ url: string; registry: string; registryAuthFile: string }> {
  for (let i = 0; i < 200; i++) {
    try {
      const e = JSON.parse(await readFile(join(dataDir, 'endpoints.json'), 'utf8'));
      const res = await fetch(`${e.url}/healthz`);
      if (res.ok) return e;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error('sigil up did not come up in 20 s');
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return { n: s.length, p50: q(50), p99: q(99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** CPU (user + system) of each timed client process, from GNU time: steadier than wall time on a busy machine. */
const cpu: Record<string, number[]> = {};

async function timed(args: string[], env: NodeJS.ProcessEnv, name = args[1] ?? args[0]): Promise<number> {
  const t = process.hrtime.bigint();
  const { stderr } = await run('/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, ...args], { env });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  if (m) {
    cpu[name] ??= [];
    cpu[name].push((Number(m[1]) + Number(m[2])) * 1000);
  }
  return wall;
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-bench-cli-'));
  const home = await mkdtemp(join(tmpdir(), 'sigil-bench-home-'));
  // The CA's own issuer in dev mode mints tokens for any identity (never in production).
  await writeFile(
    join(dataDir, 'ca-config.json'),
    JSON.stringify({
      issuers: [
        {
          issuerUrl: 'https://token.actions.githubusercontent.com',
          type: 'github-workflow',
          clientId: 'sigstore',
        },
      ],
      allowOwnIssuer: true,
      oidcDevMode: true,
    }),
  );
  const up = spawn(
    process.execPath,
    [SIGIL, 'up', '--data-dir', dataDir, '--port', '0', '--log-level', 'warn'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  try {
    const e = await waitForEndpoints(dataDir);
    const env = { PATH: process.env.PATH, SIGIL_HOME: home, REGISTRY_AUTH_FILE: e.registryAuthFile };
    await run(process.execPath, [SIGIL, 'initialize', '--root', e.url], { env });
    const login = JSON.parse(await readFile(join(dataDir, 'registry-login.json'), 'utf8'));
    const client = new RegistryClient({
      credentials: { username: login.user, password: login.password },
      useAuthFiles: false,
    });
    const { createHash } = await import('node:crypto');
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const images: string[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const repo = { registry: e.registry, repository: 'bench/app' };
      const layer = Buffer.from(`layer ${i} ${Date.now()}`);
      const config = Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: [sha(layer)] },
        }),
      );
      for (const b of [layer, config])
        await client.uploadBlob(repo, { digest: sha(b), size: b.length, open: () => b });
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, digest: sha(config), size: config.length },
          layers: [{ mediaType: OCI_LAYER_TAR, digest: sha(layer), size: layer.length }],
        }),
      );
      await client.putManifest({ ...repo, tag: `v${i}` }, manifest, OCI_MANIFEST);
      images.push(`${e.registry}/bench/app@${sha(manifest)}`);
    }
    const tokenRes = await fetch(`${e.url}/oidc/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        repository: 'bench/app',
        workflow: '.github/workflows/release.yml',
        ref: 'refs/heads/main',
        sha: 'a'.repeat(40),
      }),
    });
    const token = ((await tokenRes.json()) as { value: string }).value;
    const identity = 'https://github.com/bench/app/.github/workflows/release.yml@refs/heads/main';
    const signArgs = (img: string) => [SIGIL, 'sign', '--yes', '--identity-token', token, img];
    const verifyArgs = (img: string) => [
      SIGIL,
      'verify',
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      e.url,
      img,
    ];

    // Warm-up: page cache, the log's first batch, JIT of the stack.
    await timed(signArgs(images[RUNS]), env);
    await timed(verifyArgs(images[RUNS]), env);

    const floor: number[] = [];
    const signs: number[] = [];
    const verifies: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      floor.push(await timed(['-e', '0'], env, 'floor'));
      signs.push(await timed(signArgs(images[i]), env, 'sign'));
      verifies.push(await timed(verifyArgs(images[i]), env, 'verify'));
    }
    const row = (name: string, ms: number[], key: string, target: string) => {
      const s = stats(ms);
      const c = stats(cpu[key] ?? [0]);
      return `| ${name} | ${s.n} | ${s.p50.toFixed(0)} ms | ${s.p99.toFixed(0)} ms | ${s.mean.toFixed(0)} ms | ${c.p50.toFixed(0)} ms | ${target} |`;
    };
    console.log('| command | n | wall p50 | wall p99 | wall mean | client CPU p50 | target (wall) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    console.log(row('`sigil sign` (keyless, both layouts)', signs, 'sign', '≤ 500 ms'));
    console.log(row('`sigil verify` (offline, both layouts)', verifies, 'verify', '≤ 150 ms'));
    console.log(row('`node -e 0` (process floor)', floor, 'floor', '—'));
    const { loadavg, cpus } = await import('node:os');
    console.log(
      `\n${cpus().length} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, node ${process.version}`,
    );
  } finally {
    up.kill('SIGTERM');
    await new Promise((r) => up.once('exit', r));
    await rm(dataDir, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
