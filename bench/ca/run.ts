// Benchmark of certificate issuance (token verification + proof of possession + precertificate + SCT with a
// durable CT entry + final certificate). Starts `sigil serve ca` in one process and bench/ca/load.ts in another,
// on loopback, and prints the load generator's figures.
//   npm run build && node --import tsx bench/ca/run.ts [seconds=10] [concurrency=32]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const [seconds = '10', concurrency = '32'] = process.argv.slice(2);
const root = join(import.meta.dirname, '../..');

/** User + system CPU seconds of a process, all its threads (Linux /proc, 100 ticks a second). */
function cpuSeconds(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-bench-ca-'));
  // Dev mode lets the load generator mint tokens for many identities.
  await writeFile(join(dataDir, 'ca-config.json'), JSON.stringify({ issuers: [], oidcDevMode: true }));
  const server = spawn(
    process.execPath,
    [join(root, 'bin/sigil.js'), 'serve', 'ca', '--data-dir', dataDir, '--port', '0', '--log-level', 'warn'],
    { stdio: ['ignore', 'inherit', 'pipe'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    server.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  try {
    const load = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/ca/load.ts'), url, seconds, concurrency],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: root,
      },
    );
    let out = '';
    let cpuStart = 0;
    load.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!cpuStart && out.includes('measuring\n')) cpuStart = cpuSeconds(server.pid);
    });
    const code = await new Promise<number | null>((resolve) => load.on('exit', resolve));
    if (code !== 0) throw new Error(`load generator exited ${code}`);
    const serverCpu = cpuSeconds(server.pid) - cpuStart;
    const result = JSON.parse(out.slice(out.indexOf('measuring\n') + 10));
    // The machine is shared: the rate per CPU-second the server used is the figure that survives other load.
    result.serverCpuSeconds = Number(serverCpu.toFixed(2));
    result.certsPerServerCpuSecond = Math.round(result.certificates / serverCpu);
    result.loadAverage = loadavg()[0].toFixed(1);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
