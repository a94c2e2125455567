// Scale-out benchmark (#17): `sigil serve log` frontends on one PostgreSQL (a throwaway cluster on this machine,
// test/pg/cluster.ts) and one data dir; the first started is elected sequencer and the other forwards appends to
// it. Each frontend gets its own load generator process (bench/log/loadgen.ts) with its share of the load:
// closed-loop appends (acknowledged = committed in PostgreSQL), then open-loop at a fixed offered rate, split
// evenly. With --prefill N the log first gets N entries straight through the engine on the same database, and
// the closed-loop phase runs again on it. Prints one JSON line per phase.
//   npm run build && node --import tsx bench/pg/frontends.ts [--frontends 1,2] [--seconds 10]
//     [--concurrency 256] [--rate 1000] [--prefill 0] [--manifest-seconds 0] [--shared-buffers 4GB] [--no-settle]
//     [--pg name=value ...] [--keep DIR] [--checkpoint-first]
// --keep DIR keeps the cluster and each prefilled log (its database and data dir) in DIR, and the next run with
// the same DIR and --prefill measures them again instead of prefilling: a 10 M prefill takes ~10 minutes here.
// Each run appends its own entries to them; the empty-log phases start from an empty database every time.
// --pg shared_preload_libraries=pg_stat_statements adds each phase's costliest statements to its line.
// --manifest-seconds S adds manifest GETs through the frontends' registries (metadata in PostgreSQL, 64
// connections split evenly, bench/registry/load.ts), after the log phases.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { loadOrCreatePrivateKey, localSigner } from '../../src/crypto/index.js';
import { LOG_DIR, LOG_KEY_FILE, openRekorLog } from '../../src/log/index.js';
import { postgresLogStorage } from '../../src/storage/postgres/index.js';
import { schemaFor } from '../../src/storage/postgres/log.js';
import { startPostgres } from '../../test/pg/cluster.js';
import { prefillEntry } from '../lib/prefill.js';
import { pushManifest } from '../lib/registry-fixture.js';
import { cpuSeconds, serve, stop } from '../lib/server-process.js';

/** bench/registry/load.ts in its own process, as bench/registry runs it; its one JSON result. */
function registryLoad(job: Record<string, unknown>): Promise<Record<string, number>> {
  return new Promise((res, rej) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/registry/load.ts'), JSON.stringify(job)],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) =>
      code === 0 ? res(JSON.parse(out)) : rej(new Error(`registry load exited ${code}`)),
    );
  });
}

const root = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const FRONTENDS = opt('frontends', '1,2').split(',').map(Number);
const SECONDS = Number(opt('seconds', '10'));
const CONCURRENCY = Number(opt('concurrency', '256'));
const RATE = Number(opt('rate', '1000'));
const PREFILL = Number(opt('prefill', '0'));
/** Also GET one manifest through the frontends' registries (`sigil serve registry --database`), for this many seconds. */
const MANIFEST_SECONDS = Number(opt('manifest-seconds', '0'));
/** PostgreSQL's shared_buffers (its default, 128MB, is for a small machine; a database server gets ~25% of RAM). */
const SHARED_BUFFERS = opt('shared-buffers', '');
/** Measure right after the prefill, without VACUUM ANALYZE and CHECKPOINT first (see settle). */
const NO_SETTLE = args.includes('--no-settle');
const KEEP = args.includes('--keep') ? resolve(opt('keep', '')) : undefined;
/**
 * CHECKPOINT before each closed-loop phase, so that every phase starts where a checkpoint cycle is costliest: the
 * first write to each index page after a checkpoint puts the whole page in the WAL, and a large index with random
 * keys has many pages to write so (a restarted kept cluster starts there anyway).
 */
const CHECKPOINT_FIRST = args.includes('--checkpoint-first');

/** One load generator per frontend, started together; resolves with each one's result line. */
async function load(
  urls: string[],
  mode: 'closed' | 'open',
  total: number,
): Promise<Record<string, number>[]> {
  const share = Math.max(1, Math.round(total / urls.length));
  const children = urls.map((url) =>
    spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/log/loadgen.ts'), url, mode, String(share), String(SECONDS)],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
    ),
  );
  return Promise.all(
    children.map(
      (child) =>
        new Promise<Record<string, number>>((res, rej) => {
          let out = '';
          child.stdout?.on('data', (d) => {
            out += d;
          });
          child.on('exit', (code) =>
            code === 0 ? res(JSON.parse(out)) : rej(new Error(`loadgen exited ${code}`)),
          );
        }),
    ),
  );
}

/** Writes `count` hashedrekord-shaped entries straight through the engine on the database (as bench/log does). */
async function prefill(dataDir: string, database: string, count: number): Promise<number> {
  const dir = join(dataDir, LOG_DIR);
  await mkdir(dir, { recursive: true });
  const signer = localSigner(await loadOrCreatePrivateKey(join(dir, LOG_KEY_FILE), 'ecdsa-p256'));
  const log = await openRekorLog({
    storage: postgresLogStorage(database)(dir),
    signer,
    hostname: '127.0.0.1',
    batchMaxSize: 4096,
  });
  const pem = Buffer.from(signer.publicKey.export({ type: 'spki', format: 'pem' })).toString('base64');
  const started = performance.now();
  for (let i = 0; i < count; i += 20_000) {
    const appends = [];
    for (let j = i; j < Math.min(count, i + 20_000); j++) {
      appends.push(log.merkle.append(prefillEntry(j, pem)));
    }
    await Promise.all(appends);
  }
  await log.close();
  return Math.round(count / ((performance.now() - started) / 1000));
}

/**
 * What a database that grew over weeks has had done to it, and a bulk load has not: its tables vacuumed and
 * analysed. Right after a 10 M-entry prefill, autovacuum's first passes over the new tables would otherwise run
 * during the measurement. No CHECKPOINT: right after one, every index page an append touches is written whole to
 * the WAL once (full-page writes), the costliest moment of a checkpoint cycle rather than a typical one.
 * Returns seconds.
 */
async function settle(database: string): Promise<number> {
  const started = performance.now();
  const s = schemaFor(LOG_DIR);
  await withClient(database, (c) => c.query(`VACUUM (ANALYZE) ${s}.entries, ${s}.lookup, ${s}.tiles`));
  return Math.round((performance.now() - started) / 1000);
}

/** Counters that say where PostgreSQL's work goes: rows read by sequential scans of the log's tables, and WAL. */
function pgCounters(database: string): Promise<{ seqRows: number; walBytes: number; walFpi: number }> {
  return withClient(database, async (c) => {
    const t = await c.query<{ rows: string | null }>(
      'SELECT sum(seq_tup_read) AS rows FROM pg_stat_user_tables WHERE schemaname = $1',
      [schemaFor(LOG_DIR)],
    );
    const w = await c.query<{ wal_bytes: string; wal_fpi: string }>(
      'SELECT wal_bytes, wal_fpi FROM pg_stat_wal',
    );
    return {
      seqRows: Number(t.rows[0].rows ?? 0),
      walBytes: Number(w.rows[0].wal_bytes),
      walFpi: Number(w.rows[0].wal_fpi),
    };
  });
}

/** With `--pg shared_preload_libraries=pg_stat_statements`: where a phase's database time went, by statement. */
const STATEMENTS = args.some((a) => a.includes('pg_stat_statements'));

function resetStatements(database: string): Promise<unknown> {
  return withClient(database, async (c) => {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.query('SELECT pg_stat_statements_reset()');
  });
}

/** The phase's costliest statements: total and mean milliseconds, calls, buffers hit and read per call. */
function topStatements(database: string): Promise<Record<string, string | number>[]> {
  return withClient(database, async (c) => {
    const r = await c.query<Record<string, string>>(
      `SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS query, calls,
         round(total_exec_time) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
         round(shared_blks_hit::numeric / calls, 1) AS hits, round(shared_blks_read::numeric / calls, 1) AS reads
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       ORDER BY total_exec_time DESC LIMIT 6`,
    );
    return r.rows.map((row) => ({ ...row, calls: Number(row.calls), total_ms: Number(row.total_ms) }));
  });
}

/**
 * A kept log measured again starts on a cold server (its cluster restarted): its indexes are read into
 * shared_buffers first, as a server that has been appending for a while would hold them.
 */
function prewarm(database: string): Promise<unknown> {
  const s = schemaFor(LOG_DIR);
  return withClient(database, async (c) => {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
    for (const relation of ['lookup_pkey', 'entries_pkey', 'tiles_pkey', 'tiles'])
      await c.query('SELECT pg_prewarm($1)', [`${s}.${relation}`]);
  });
}

/** One connection for `work`, closed after it. */
async function withClient<T>(database: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** More server settings, `--pg name=value` (repeatable): e.g. docs/design/scale-out.md's checkpoint settings. */
const PG_SETTINGS = args.flatMap((a, i) => (a === '--pg' ? [args[i + 1]] : []));
const cluster = await startPostgres(
  [...(SHARED_BUFFERS ? [`shared_buffers=${SHARED_BUFFERS}`] : []), ...PG_SETTINGS],
  KEEP && join(KEEP, 'pg'),
);

/** The size of the log a kept database holds (0 if none). */
function keptSize(database: string): Promise<number> {
  return withClient(database, async (c) => {
    const r = await c.query(`SELECT size FROM ${schemaFor(LOG_DIR)}.head`).catch(() => undefined);
    return Number(r?.rows[0]?.size ?? 0);
  });
}
/** Every server started and not yet stopped: stopped on the way out, whatever ended the run. */
const running = new Set<ChildProcess>();
const started = async (server: Promise<{ child: ChildProcess; url: string }>) => {
  const s = await server;
  running.add(s.child);
  return s;
};
const stopped = async (child: ChildProcess) => {
  await stop(child);
  running.delete(child);
};
const teardown = () => {
  for (const child of running) child.kill('SIGKILL');
  cluster.destroy();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    teardown();
    process.exit(130);
  });
try {
  const phases: [string, 'closed' | 'open', number][] = [
    ['sustained', 'closed', CONCURRENCY],
    [`offered ${RATE}/s`, 'open', RATE],
  ];
  for (const n of FRONTENDS) {
    for (const filled of PREFILL > 0 ? [0, PREFILL] : [0]) {
      const name = `bench_${n}_${filled}`;
      const kept = KEEP && filled > 0;
      const reused = kept && (await keptSize(await cluster.createDatabase(name))) >= filled;
      // Anything else (an empty-log phase, a prefill cut short) starts from an empty database.
      if (!reused) await cluster.dropDatabase(name);
      const database = await cluster.createDatabase(name);
      const dataDir = kept ? join(KEEP, name) : await mkdtemp(join(tmpdir(), 'sigil-bench-frontends-'));
      if (kept && !reused) await rm(dataDir, { recursive: true, force: true });
      const prefillRate = filled > 0 && !reused ? await prefill(dataDir, database, filled) : undefined;
      const settledSeconds = filled > 0 && !reused && !NO_SETTLE ? await settle(database) : undefined;
      if (reused) await prewarm(database);
      const servers: { child: ChildProcess; url: string }[] = [];
      for (let i = 0; i < n; i++)
        servers.push(await started(serve('log', dataDir, { args: ['--database', database] })));
      const urls = servers.map((s) => s.url);
      for (const [phase, mode, arg] of filled > 0 ? phases.slice(0, 1) : phases) {
        if (CHECKPOINT_FIRST && mode === 'closed') await withClient(database, (c) => c.query('CHECKPOINT'));
        const cpu0 = servers.map((s) => cpuSeconds(s.child.pid as number));
        const pgCpu0 = cluster.cpuSeconds();
        const counters0 = await pgCounters(database);
        if (STATEMENTS) await resetStatements(database);
        const r = await load(urls, mode, arg);
        const pgCpu = cluster.cpuSeconds() - pgCpu0;
        const serverCpu = servers.reduce((s, x, i) => s + cpuSeconds(x.child.pid as number) - cpu0[i], 0);
        // The statistics reach pg_stat_* within about a second of each transaction.
        await new Promise((res) => setTimeout(res, 1500));
        const counters = await pgCounters(database);
        const acked = r.reduce((s, x) => s + x.acked, 0);
        const line = {
          phase: `${phase}, ${n} frontend${n > 1 ? 's' : ''}${filled > 0 ? `, ${filled} entries already` : ', empty log'}`,
          ackedPerSecond: Math.round(r.reduce((s, x) => s + x.throughput, 0)),
          acked,
          errors: r.reduce((s, x) => s + (x.errors ?? 0), 0),
          // Per frontend: the first is the sequencer, the others forward to it.
          p50Ms: r.map((x) => x.p50ms),
          p99Ms: r.map((x) => x.p99ms),
          frontendsCpuUsPerEntry: Math.round((serverCpu * 1e6) / Math.max(1, acked)),
          postgresCpuUsPerEntry: Math.round((pgCpu * 1e6) / Math.max(1, acked)),
          seqScanRowsPerEntry: Math.round((counters.seqRows - counters0.seqRows) / Math.max(1, acked)),
          walBytesPerEntry: Math.round((counters.walBytes - counters0.walBytes) / Math.max(1, acked)),
          walFullPagesPerEntry: Number(
            ((counters.walFpi - counters0.walFpi) / Math.max(1, acked)).toFixed(2),
          ),
          ...(prefillRate ? { prefillPerSecond: prefillRate } : {}),
          ...(settledSeconds !== undefined ? { settledSeconds } : {}),
          ...(reused ? { reusedEntries: (await keptSize(database)) - acked } : {}),
          loadavg1m: Number(loadavg()[0].toFixed(1)),
          ...(STATEMENTS ? { statements: await topStatements(database) } : {}),
        };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      }
      for (const s of servers) await stopped(s.child);
      if (!kept) await rm(dataDir, { recursive: true, force: true });
    }
  }
  if (MANIFEST_SECONDS > 0)
    for (const n of FRONTENDS) {
      const database = await cluster.createDatabase(`bench_registry_${n}`);
      const dataDir = await mkdtemp(join(tmpdir(), 'sigil-bench-frontends-'));
      const servers: { child: ChildProcess; url: string }[] = [];
      for (let i = 0; i < n; i++)
        servers.push(
          await started(
            serve('registry', dataDir, {
              args: ['--database', database, '--anonymous-push', '--anonymous-pull'],
            }),
          ),
        );
      // Pushed through the first frontend, read through every one.
      await pushManifest(servers[0].url);
      const cpu0 = servers.map((s) => cpuSeconds(s.child.pid as number));
      const pgCpu0 = cluster.cpuSeconds();
      const r = await Promise.all(
        servers.map((s) =>
          registryLoad({
            url: s.url,
            test: 'manifest-get',
            repo: 'bench/manifest',
            tag: 'v1',
            seconds: MANIFEST_SECONDS,
            connections: Math.round(64 / n),
          }),
        ),
      );
      const requests = r.reduce((sum, x) => sum + x.reqPerSec * MANIFEST_SECONDS, 0);
      const serverCpu = servers.reduce((sum, x, i) => sum + cpuSeconds(x.child.pid as number) - cpu0[i], 0);
      const line = {
        phase: `manifest GET, ${n} frontend${n > 1 ? 's' : ''}, 64 connections`,
        requestsPerSecond: Math.round(r.reduce((sum, x) => sum + x.reqPerSec, 0)),
        p50Ms: r.map((x) => x.p50Ms),
        p99Ms: r.map((x) => x.p99Ms),
        frontendsCpuUsPerRequest: Math.round((serverCpu * 1e6) / Math.max(1, requests)),
        postgresCpuUsPerRequest: Math.round(((cluster.cpuSeconds() - pgCpu0) * 1e6) / Math.max(1, requests)),
        loadavg1m: Number(loadavg()[0].toFixed(1)),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      for (const s of servers) await stopped(s.child);
      await rm(dataDir, { recursive: true, force: true });
    }
} finally {
  teardown();
}
