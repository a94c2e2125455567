// Log benchmark: starts `sigil serve log` (built, in its own process) and drives it with bench/log/loadgen.ts (its
// own process) over loopback HTTP. Phases: sustained closed-loop append throughput on an empty log; open-loop
// latency at 500 and 1,000 entries/s offered; then the same throughput run on a log pre-filled with PREFILL
// entries (written straight through the engine, not over HTTP). Prints one JSON line per phase, with the server's
// CPU time (user+sys from /proc/<pid>/stat) per acknowledged entry — the figure that stays meaningful when other
// work shares the machine — the generator's own CPU per request, and the load average during the phase.
//   npm run build && node --import tsx bench/log/run.ts [--seconds 10] [--prefill 1000000] [--keys 256]
//     [--concurrency 256] [--skip-empty] [--closed-only] [--cpu-prof <dir>] [--prefill-cache <dir>]
//     [--api v1|v2|both]
// --api v2 runs the empty-log phases against the Rekor v2 log (`sigil serve log-v2`), both: v1 then v2 in one run
// (the prefilled phases are the v1 log's).
// SIGIL_BENCH_SERVER_FLAGS passes extra node/V8 flags to the server (bench/lib/server-process.ts).
// --prefill-cache keeps the prefilled log in <dir> and copies it for later runs (the prefill takes minutes).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadOrCreatePrivateKey, localSigner } from '../../src/crypto/index.js';
import { LOG_DIR, LOG_KEY_FILE, openRekorLog } from '../../src/log/index.js';
import { openSqliteStorage } from '../../src/storage/sqlite/index.js';
import { prefillEntry } from '../lib/prefill.js';
import { cpuSeconds, machineCpu, serve, stop, threadCpu } from '../lib/server-process.js';

const root = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SECONDS = opt('seconds', 10);
const PREFILL = opt('prefill', 1_000_000);
const CONCURRENCY = opt('concurrency', 256);
/** Only the closed-loop phases (for quick comparisons while working on throughput). */
const CLOSED_ONLY = args.includes('--closed-only');
const KEYS = opt('keys', 256);
const sopt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const CPU_PROF = sopt('cpu-prof');
const API = sopt('api') ?? 'v1';
const APIS = API === 'both' ? ['v1', 'v2'] : [API];
const PREFILL_CACHE = sopt('prefill-cache');

const serveLog = (dataDir: string, api = 'v1') =>
  serve(api === 'v2' ? 'log-v2' : 'log', dataDir, {
    nodeFlags: CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [],
  });

async function loadgen(
  server: ChildProcess,
  url: string,
  mode: 'closed' | 'open',
  arg: number,
  api = 'v1',
): Promise<Record<string, unknown>> {
  const pid = server.pid as number;
  let cpu0 = cpuSeconds(pid);
  let main0 = cpuSeconds(pid, pid);
  let threads0 = threadCpu(pid);
  let machine0 = machineCpu();
  const r = await runLoadgen(url, mode, arg, api, () => {
    machine0 = machineCpu();
    cpu0 = cpuSeconds(pid);
    main0 = cpuSeconds(pid, pid);
    threads0 = threadCpu(pid);
  });
  const serverCpu = cpuSeconds(pid) - cpu0;
  const machine = machineCpu();
  const mainCpu = cpuSeconds(pid, pid) - main0;
  const perEntry = (s: number) => Math.round((s * 1e6) / Math.max(1, Number(r.acked)));
  // Threads that used at least 5 µs per entry, busiest first (main thread, log workers, SQLite writer, libuv).
  const threads = Object.fromEntries(
    [...threadCpu(pid)]
      .map(([t, s]) => [t, perEntry(s - (threads0.get(t) ?? 0))] as const)
      .filter(([, us]) => us >= 5)
      .sort((a, b) => b[1] - a[1]),
  );
  return {
    ...r,
    serverCpuUsPerEntry: perEntry(serverCpu),
    // The main thread (HTTP, sequencing, SQLite) is the serial part: it bounds throughput on its own.
    serverMainThreadCpuUsPerEntry: perEntry(mainCpu),
    serverThreadsUsPerEntry: threads,
    serverCpuCores: Number((serverCpu / Number(r.seconds)).toFixed(2)),
    loadavg1m: Number(loadavg()[0].toFixed(1)),
    // Idle CPU left on the whole machine: where it is high at saturation, a stage waits on another, not on CPU.
    machineIdlePct: Math.round(
      (100 * (machine.idle - machine0.idle)) / Math.max(1, machine.total - machine0.total),
    ),
  };
}

/** Runs the generator; `onStart` is called when it has finished precomputing and starts sending. */
function runLoadgen(
  url: string,
  mode: 'closed' | 'open',
  arg: number,
  api: string,
  onStart: () => void,
): Promise<Record<string, unknown>> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'bench/log/loadgen.ts'),
      url,
      mode,
      String(arg),
      String(SECONDS),
      String(KEYS),
      api,
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  child.on('message', (m) => {
    if (m === 'start') onStart();
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  return new Promise((res, rej) =>
    child.on('exit', (code) =>
      code === 0 ? res(JSON.parse(out)) : rej(new Error(`loadgen exited ${code}`)),
    ),
  );
}

/** Writes `count` realistic hashedrekord-shaped leaves (with search terms) straight through the engine. */
async function prefill(dataDir: string, count: number): Promise<number> {
  if (PREFILL_CACHE && existsSync(join(PREFILL_CACHE, `${count}`))) {
    await cp(join(PREFILL_CACHE, `${count}`), dataDir, { recursive: true });
    return Number.NaN;
  }
  const dir = join(dataDir, LOG_DIR);
  await mkdir(dir, { recursive: true });
  const signer = localSigner(await loadOrCreatePrivateKey(join(dir, LOG_KEY_FILE), 'ecdsa-p256'));
  const log = await openRekorLog({
    storage: openSqliteStorage(dir),
    signer,
    hostname: '127.0.0.1',
    batchMaxSize: 4096,
  });
  const pem = Buffer.from(signer.publicKey.export({ type: 'spki', format: 'pem' })).toString('base64');
  const started = performance.now();
  const chunk = 20_000;
  for (let i = 0; i < count; i += chunk) {
    const appends = [];
    for (let j = i; j < Math.min(count, i + chunk); j++) {
      appends.push(log.merkle.append(prefillEntry(j, pem)));
    }
    await Promise.all(appends);
  }
  await log.close();
  const rate = Math.round(count / ((performance.now() - started) / 1000));
  if (PREFILL_CACHE) {
    await mkdir(PREFILL_CACHE, { recursive: true });
    const tmp = join(PREFILL_CACHE, `${count}.tmp`);
    await rm(tmp, { recursive: true, force: true });
    await cp(dataDir, tmp, { recursive: true });
    await rename(tmp, join(PREFILL_CACHE, `${count}`));
  }
  return rate;
}

const results: Record<string, unknown>[] = [];
const report = (phase: string, r: Record<string, unknown>) => {
  const line = { phase, ...r };
  results.push(line);
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

if (!args.includes('--skip-empty')) {
  for (const api of APIS) {
    const fresh = await mkdtemp(join(tmpdir(), 'sigil-bench-log-'));
    const { child, url } = await serveLog(fresh, api);
    const tag = APIS.length > 1 || api !== 'v1' ? ` (Rekor ${api})` : '';
    report(`sustained, empty log${tag}`, await loadgen(child, url, 'closed', CONCURRENCY, api));
    if (!CLOSED_ONLY) {
      report(`offered 500/s${tag}`, await loadgen(child, url, 'open', 500, api));
      report(`offered 1000/s${tag}`, await loadgen(child, url, 'open', 1000, api));
    }
    await stop(child);
    await rm(fresh, { recursive: true, force: true });
  }
}
if (PREFILL > 0) {
  const big = await mkdtemp(join(tmpdir(), 'sigil-bench-log-big-'));
  const rate = await prefill(big, PREFILL);
  // The prefilled log (~800 MB at a million entries, written or copied just now) is still dirty in the page cache;
  // flushed during the phase, its writeback would compete with the server for CPU and with its fsyncs for the
  // disk, which a server that has grown to this size does not see. Flush it first.
  execFileSync('sync');
  report(`prefill through the engine`, { entries: PREFILL, entriesPerSecond: rate });
  const { child, url } = await serveLog(big);
  report(`sustained, ${PREFILL} entries in log`, await loadgen(child, url, 'closed', CONCURRENCY));
  if (!CLOSED_ONLY) {
    report(`offered 500/s, ${PREFILL} entries in log`, await loadgen(child, url, 'open', 500));
    report(`offered 1000/s, ${PREFILL} entries in log`, await loadgen(child, url, 'open', 1000));
  }
  await stop(child);
  await rm(big, { recursive: true, force: true });
}
