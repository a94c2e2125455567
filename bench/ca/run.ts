// Benchmark of certificate issuance (token verification + proof of possession + precertificate + SCT with a
// durable CT entry + final certificate). Starts `sigil serve ca` in one process and bench/ca/load.ts in another,
// on loopback, and prints the load generator's figures, one JSON line per measured phase: closed loop at
// `concurrency` in flight (saturation throughput), then open loop at `rate` offered certificates a second
// (latency from the scheduled send: the target is judged on this one). 0 skips a phase.
//   npm run build && node --import tsx bench/ca/run.ts [seconds=10] [concurrency=32] [rate=2000]
// SIGIL_BENCH_PROFILE=<dir> writes V8 CPU profiles of the server (every thread) and the load generator there;
// SIGIL_BENCH_SERVER_FLAGS passes extra node/V8 flags to the server (bench/lib/server-process.ts).
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, serve, stop, threadCpu } from '../lib/server-process.js';

const [seconds = '10', concurrency = '32', rate = '2000'] = process.argv.slice(2);
const root = join(import.meta.dirname, '../..');

/**
 * CPU µs of one P-256 verification here and now: a yardstick for how much the machine's other load inflates CPU
 * times (a shared 2-core machine), so runs under different load can be compared by serverCpuUsPerCert ÷ this.
 */
function p256VerifyUs(): number {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const msg = Buffer.alloc(1000, 1);
  const sig = sign('sha256', msg, privateKey);
  const t = process.cpuUsage();
  for (let i = 0; i < 1000; i++) verify('sha256', msg, publicKey, sig);
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-bench-ca-'));
  // Dev mode lets the load generator mint tokens for many identities.
  await writeFile(
    join(dataDir, 'ca-config.json'),
    JSON.stringify({ issuers: [], oidcDevMode: true, rateLimit: false }),
  );
  const profileDir = process.env.SIGIL_BENCH_PROFILE;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const { child: server, url } = await serve('ca', dataDir, { nodeFlags: profile });
  const pid = server.pid as number;
  try {
    const load = spawn(
      process.execPath,
      [...profile, '--import', 'tsx', join(root, 'bench/ca/load.ts'), url, seconds, concurrency, rate],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: root,
      },
    );
    // Each phase: `measuring <phase>` when it starts, its JSON result line when it is over; the server's CPU
    // (whole process and per thread) is sampled at both.
    const results: Record<string, unknown>[] = [];
    let partial = '';
    let cpuStart = 0;
    let threadsStart = new Map<string, number>();
    load.stdout.on('data', (d: Buffer) => {
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('measuring ')) {
          cpuStart = cpuSeconds(pid);
          threadsStart = threadCpu(pid);
        } else if (line.startsWith('{')) {
          const threadsEnd = threadCpu(pid);
          const result = JSON.parse(line);
          const serverCpu = cpuSeconds(pid) - cpuStart;
          // The machine is shared: CPU per certificate is the figure that survives other load.
          result.serverCpuSeconds = Number(serverCpu.toFixed(2));
          result.serverCpuUsPerCert = Math.round((serverCpu * 1e6) / result.certificates);
          // Where the server's CPU went, µs per certificate per thread (main = the HTTP thread; the busiest
          // others are the issue workers, then the CT tree worker and libuv's pool doing the fdatasyncs).
          const perThread: Record<string, number> = {};
          for (const [tid, end] of threadsEnd) {
            const us = Math.round(((end - (threadsStart.get(tid) ?? 0)) * 1e6) / result.certificates);
            if (us > 0) perThread[tid === String(pid) ? 'main' : tid] = us;
          }
          result.serverThreadsUsPerCert = perThread;
          result.loadAverage = loadavg()[0].toFixed(1);
          results.push(result);
        }
      }
    });
    const code = await new Promise<number | null>((resolve) => load.on('exit', resolve));
    if (code !== 0) throw new Error(`load generator exited ${code}`);
    // Measured right after the timed phases, while the machine's other load is still what it was.
    const yardstick = Number(p256VerifyUs().toFixed(1));
    for (const result of results) {
      result.p256VerifyUs = yardstick;
      result.serverCpuPerCertInP256Verifies = Number(
        ((result.serverCpuUsPerCert as number) / yardstick).toFixed(2),
      );
      process.stdout.write(`${JSON.stringify(result)}\n`);
    }
  } finally {
    await stop(server);
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
