// A real PostgreSQL for the tests (Debian's `postgresql` package, never a mock): a throwaway cluster made with
// initdb in a temp dir, listening on loopback on a free port, torn down after. PostgreSQL refuses to run as root,
// so as root (CI containers) the cluster belongs to the `postgres` user and its commands run through runuser.
// No vitest here: benchmarks start clusters too (bench/pg). describePostgres is in ./suite.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The newest PostgreSQL server binaries on this machine, if any. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PostgresCluster {
  /** A connection URL for the database `sigil` (the suite's own). */
  url: string;
  port: number;
  /** A fresh database in the cluster, for one test (in a kept cluster, the one left there if any). */
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** CPU seconds (user + system) the server's processes have used so far, for benchmarks (Linux /proc). */
  cpuSeconds(): number;
  /** pg_ctl stop (fast) / start: a database restart under load. */
  stop(): void;
  start(): void;
  destroy(): void;
}

/** The postmaster's and its children's CPU seconds, including children that exited (cutime/cstime). */
function postgresCpuSeconds(data: string): number {
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const stat = (pid: string) => {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  };
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const f = stat(pid);
      // Fields after the name: [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime.
      if (Number(pid) === postmaster) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      else if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks / 100;
}

/**
 * `settings`: more server settings (`name=value`), e.g. a benchmark's shared_buffers. `keepIn`: a directory the
 * cluster lives in and stays in after destroy() (stopped cleanly, not removed), started again by the next call
 * with the same directory: a benchmark's 10 M-entry prefill, made once and measured many times.
 */
export async function startPostgres(settings: string[] = [], keepIn?: string): Promise<PostgresCluster> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  // Traversable: as root, the cluster's user (postgres) must reach it; initdb makes the data dir itself 0700.
  if (keepIn) mkdirSync(keepIn, { recursive: true, mode: 0o755 });
  const dir = keepIn ?? mkdtempSync(join(tmpdir(), 'sigil-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  const run = (cmd: string, args: string[]) => {
    const full = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]]
      : [join(bin, cmd), args];
    const r = spawnSync(full[0] as string, full[1] as string[], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  const kept = keepIn !== undefined && existsSync(join(data, 'PG_VERSION'));
  if (!kept) run('initdb', ['-D', data, '-U', 'sigil', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
  const port = await freePort();
  const options = [
    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=on`,
    ...settings.map((s) => `-c ${s}`),
  ].join(' ');
  const start = () => run('pg_ctl', ['-D', data, '-o', options, '-w', '-l', join(dir, 'log'), 'start']);
  start();
  /** One connection to the maintenance database for `work`, closed after it. */
  const asAdmin = async <T>(work: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: `postgres://sigil@127.0.0.1:${port}/postgres` });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  };
  const dropDatabase = (name: string) =>
    asAdmin(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
    });
  const createDatabase = async (name: string) => {
    await asAdmin(async (c) => {
      // A kept cluster's database is reused as it was left.
      const exists =
        keepIn && (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount;
      if (!exists) await c.query(`CREATE DATABASE ${name}`);
    });
    return `postgres://sigil@127.0.0.1:${port}/${name}`;
  };
  const url = await createDatabase('sigil');
  return {
    url,
    port,
    createDatabase,
    dropDatabase,
    cpuSeconds: () => postgresCpuSeconds(data),
    stop: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    start,
    destroy() {
      try {
        run('pg_ctl', ['-D', data, '-m', keepIn ? 'fast' : 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      if (!keepIn) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}
function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}
