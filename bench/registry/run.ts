// Side-by-side benchmark of sigil's registry and CNCF distribution (Debian `docker-registry`), both on loopback
// with filesystem storage in temp dirs, driven by the same separate load process (bench/registry/load.ts, or
// wrk for manifest GETs when installed): blob push and pull MB/s at 1 MiB / 64 MiB / 512 MiB, and manifest GET
// requests/s over 64 keep-alive connections. Prints a markdown table for bench/RESULTS.md.
//   npm run build && node --import tsx bench/registry/run.ts [--quick]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pushManifest } from '../lib/registry-fixture.js';
import { freePort } from '../lib/server-process.js';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const DISTRIBUTION = '/usr/bin/docker-registry';
const QUICK = process.argv.includes('--quick');
const MiB = 1024 * 1024;
const SIZES: [string, number, number][] = QUICK
  ? [
      ['1 MiB', MiB, 16],
      ['64 MiB', 64 * MiB, 2],
      ['512 MiB', 512 * MiB, 1],
    ]
  : [
      ['1 MiB', MiB, 64],
      ['64 MiB', 64 * MiB, 8],
      ['512 MiB', 512 * MiB, 2],
    ];
const MANIFEST_SECONDS = QUICK ? 5 : 10;
const CONNECTIONS = 64;

interface Target {
  name: string;
  url: string;
  proc: ChildProcess;
  dir: string;
}

async function waitFor(url: string, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`${url}: server exited with ${proc.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became ready`);
}

async function startSigil(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-sigil-'));
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'sigil.js'),
      'serve',
      'registry',
      '--data-dir',
      dir,
      '--port',
      String(port),
      '--anonymous-push',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`, proc);
  return { name: 'sigil', url, proc, dir };
}

async function startDistribution(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-distribution-'));
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), config);
  const proc = spawn(DISTRIBUTION, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/v2/`, proc);
  return { name: 'distribution', url, proc, dir };
}

/** CPU seconds (user + system) the process has used, from /proc (Linux); NaN elsewhere. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Runs `fn` and adds the server's CPU seconds spent meanwhile: robust when other work shares the CPUs. */
async function measured<T extends Record<string, unknown>>(
  t: Target,
  fn: () => Promise<T>,
): Promise<T & { cpuS: number }> {
  const before = await cpuSeconds(t.proc.pid);
  const result = await fn();
  return { ...result, cpuS: +((await cpuSeconds(t.proc.pid)) - before).toFixed(2) };
}

async function load(job: Record<string, unknown>): Promise<Record<string, number> & { digests?: string[] }> {
  const { stdout } = await exec(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'load.ts'), JSON.stringify(job)],
    {
      maxBuffer: 64 * MiB,
    },
  );
  return JSON.parse(stdout);
}

function hasWrk(): boolean {
  return ['/usr/bin/wrk', '/usr/local/bin/wrk'].some(existsSync);
}

/** wrk's `--latency` report → req/s, p50, p99. */
async function wrkManifestGet(url: string): Promise<Record<string, number>> {
  const { stdout } = await exec('wrk', [
    '-t2',
    `-c${CONNECTIONS}`,
    `-d${MANIFEST_SECONDS}s`,
    '--latency',
    '-H',
    'Accept: application/vnd.oci.image.manifest.v1+json',
    url,
  ]);
  const ms = (label: string) => {
    const m = stdout.match(new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`));
    if (!m) return Number.NaN;
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
  };
  const rps = Number(stdout.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
  const non2xx = Number(stdout.match(/Non-2xx or 3xx responses:\s+(\d+)/)?.[1] ?? 0);
  if (non2xx > 0) throw new Error(`wrk saw ${non2xx} failed responses from ${url}`);
  return { reqPerSec: Math.round(rps), p50Ms: ms(' 50%'), p99Ms: ms(' 99%') };
}

async function main(): Promise<void> {
  if (!existsSync(DISTRIBUTION)) throw new Error(`${DISTRIBUTION} missing: apt-get install docker-registry`);
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first');
  const targets = [await startSigil(), await startDistribution()];
  const rows: string[] = [];
  const row = (what: string, unit: string, results: Record<string, number>[]) => {
    const [a, b] = results;
    const ratio = (a[unit] / b[unit]).toFixed(2);
    const u = unit === 'mbPerSec' ? 'MB/s' : 'req/s';
    const cell = (r: Record<string, number>) =>
      `${r[unit]} ${u} (p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, CPU ${r.cpuS} s)`;
    rows.push(`| ${what} | ${cell(a)} | ${cell(b)} | ${ratio}× |`);
    process.stderr.write(`${rows[rows.length - 1]}\n`);
  };
  try {
    for (const [label, size, count] of SIZES) {
      const pushes: (Record<string, number> & { digests?: string[] })[] = [];
      for (const t of targets) {
        pushes.push(
          await measured(t, () => load({ url: t.url, test: 'push', repo: 'bench/blobs', size, count })),
        );
      }
      row(`blob push ${label} ×${count}`, 'mbPerSec', pushes);
      const pulls: Record<string, number>[] = [];
      for (const [i, t] of targets.entries()) {
        pulls.push(
          await measured(t, () =>
            load({ url: t.url, test: 'pull', repo: 'bench/blobs', digests: pushes[i].digests }),
          ),
        );
      }
      row(`blob pull ${label} ×${count}`, 'mbPerSec', pulls);
    }
    const gets: Record<string, number>[] = [];
    const client = hasWrk() ? 'wrk' : 'node';
    for (const t of targets) {
      await pushManifest(t.url, t.name);
      const url = `${t.url}/v2/bench/manifest/manifests/v1`;
      const job = {
        url: t.url,
        test: 'manifest-get',
        repo: 'bench/manifest',
        tag: 'v1',
        seconds: MANIFEST_SECONDS,
        connections: CONNECTIONS,
      };
      gets.push(await measured(t, () => (client === 'wrk' ? wrkManifestGet(url) : load(job))));
    }
    row(`manifest GET, ${CONNECTIONS} connections, ${MANIFEST_SECONDS} s (${client})`, 'reqPerSec', gets);
  } finally {
    for (const t of targets) {
      t.proc.kill('SIGTERM');
      await new Promise((r) => (t.proc.exitCode !== null ? r(undefined) : t.proc.once('exit', r)));
      await rm(t.dir, { recursive: true, force: true });
    }
  }
  const { stdout: distVersion } = await exec(DISTRIBUTION, ['--version']);
  process.stdout.write(
    [
      `Node ${process.version}, ${distVersion.trim()}, ${cpus().length} CPUs (shared by servers and load).`,
      'CPU = server process CPU seconds (user + system) spent during the test.',
      '',
      '| test | sigil | distribution | sigil / distribution |',
      '| --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
