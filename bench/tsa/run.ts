// Benchmark of RFC 3161 timestamping: sigil's TSA (`sigil serve tsa`) and, in the same run, sigstore's
// timestamp-server (the peer scripts/peers.sh builds; its in-memory ECDSA P-256 signer, NTP monitoring off, as
// nothing else is reachable here), each driven by bench/tsa/load.ts in its own process on loopback. Prints one
// JSON line per target and phase, with the server's CPU per timestamp (the figure that survives a shared machine).
//   npm run build && node --import tsx bench/tsa/run.ts [seconds=10] [concurrency=32] [rate=1000]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, freePort, serve, stop } from '../lib/server-process.js';

const [seconds = '10', concurrency = '32', rate = '1000'] = process.argv.slice(2);
const root = join(import.meta.dirname, '../..');

/** sigstore's timestamp-server from the peers' bin dir, or undefined when it is not installed. */
async function startPeer(): Promise<{ child: ChildProcess; url: string } | undefined> {
  const bin = join(
    execFileSync('bash', [join(root, 'scripts/peers.sh'), '--path'], { encoding: 'utf8' }).trim(),
    'timestamp-server',
  );
  if (!existsSync(bin)) return undefined;
  const port = await freePort();
  const child = spawn(
    bin,
    [
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--timestamp-signer',
      'memory',
      '--disable-ntp-monitoring',
      '--log-type',
      'prod',
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/api/v1/timestamp/certchain`)).ok) return { child, url };
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error('timestamp-server did not start');
}

async function drive(target: string, url: string, pid: number): Promise<void> {
  const load = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/tsa/load.ts'), url, seconds, concurrency, rate],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: root,
    },
  );
  let partial = '';
  let cpuStart = 0;
  load.stdout.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('measuring ')) cpuStart = cpuSeconds(pid);
      else if (line.startsWith('{')) {
        const r = JSON.parse(line);
        const cpu = cpuSeconds(pid) - cpuStart;
        r.target = target;
        r.serverCpuUsPerTimestamp = Math.round((cpu * 1e6) / Math.max(1, r.timestamps));
        r.loadAverage = loadavg()[0].toFixed(1);
        process.stdout.write(`${JSON.stringify(r)}\n`);
      }
    }
  });
  const code = await new Promise<number | null>((resolve) => load.on('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited ${code}`);
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-bench-tsa-'));
  try {
    const sigil = await serve('tsa', dataDir);
    try {
      await drive('sigil', sigil.url, sigil.child.pid as number);
    } finally {
      await stop(sigil.child);
    }
    const peer = await startPeer();
    if (!peer)
      process.stderr.write(
        'timestamp-server is not installed (bash scripts/peers.sh timestamp-server): sigil only\n',
      );
    else
      try {
        await drive('sigstore timestamp-server v2.1.3', peer.url, peer.child.pid as number);
      } finally {
        peer.child.kill('SIGTERM');
        await new Promise((r) => peer.child.once('exit', r));
      }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
