// What the benchmarks share about the server under test: starting `sigil serve <component>` as its own process
// (and waiting for its URL), and reading its CPU time from /proc, for the whole process and per thread. CPU per
// operation is the figure that stays meaningful on a shared machine, where throughput moves with the neighbours.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');

export interface ServeOptions {
  /** Node flags before the script, e.g. --cpu-prof. SIGIL_BENCH_SERVER_FLAGS adds more (GC experiments...). */
  nodeFlags?: string[];
  /** More `sigil serve` flags, e.g. --database URL. */
  args?: string[];
}

/** Starts `sigil serve <component>` on a free port; resolves with the process and its URL once it listens. */
export function serve(
  component: 'log' | 'log-v2' | 'ca' | 'registry' | 'tsa',
  dataDir: string,
  { nodeFlags = [], args = [] }: ServeOptions = {},
): Promise<{ child: ChildProcess; url: string }> {
  const extra = (process.env.SIGIL_BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      ...extra,
      'bin/sigil.js',
      'serve',
      component,
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--log-level',
      'warn',
      ...args,
    ],
    { cwd: root, stdio: ['ignore', 'inherit', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

/** Stops a server started by serve() (SIGTERM: it closes its stores cleanly) and waits for it to exit. */
export async function stop(child: ChildProcess): Promise<void> {
  const done = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** User + system CPU seconds of a process (all threads), or of one of its threads (Linux, 100 ticks a second). */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(tid ? `/proc/${pid}/task/${tid}/stat` : `/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of each thread of a process, by thread ID (the main thread's is the pid). */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(tid, cpuSeconds(pid, Number(tid)));
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return out;
}

/** The machine's CPU time, idle and total (jiffies over all cores, from /proc/stat), for the idle share of a phase. */
export function machineCpu(): { idle: number; total: number } {
  const line = readFileSync('/proc/stat', 'latin1').split('\n')[0];
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return { idle: ticks[3] + ticks[4], total: ticks.reduce((a, b) => a + b, 0) };
}

/** A TCP port free on loopback right now, for a server the bench starts itself. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
