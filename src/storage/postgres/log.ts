// The PostgreSQL backend of the Merkle log engine's storage (log/storage.ts), for deployments that outgrow one
// machine's SQLite (docs/design/scale-out.md). Each log (the Rekor v1 and v2 logs, the CT log's tree) gets a schema
// of its own in the one database, named after its directory in the data dir (log, log-v2, ct). A batch commit is
// one transaction — the head checked, entries, their lookup rows, tiles and the new head written with multi-row
// INSERTs over unnest() arrays — and resolves only once PostgreSQL has committed it (synchronous_commit on), which
// is when the engine acknowledges the batch. Commits are sent one after the other on one connection, in the order
// the engine issues them; reads use the pool's other connections.
// Lookups go through one table of 8-byte keys, the first 8 bytes of the SHA-256 of an identity or of a search term:
// its B-tree is what every append grows at a random place, and at 32- and 16-byte keys in two tables (schema
// version 1) it cost 416 bytes an entry and made appends ~24% slower at 10 M entries (#17). Opening a version-1
// schema upgrades it in place (`upgrades` below).
import { hash } from 'node:crypto';
import { basename } from 'node:path';
import pg from 'pg';
import {
  type LogStorage,
  type OpenLogStorage,
  type SequencerElection,
  StorageUnavailableError,
  type StoredEntry,
  type TileKey,
  type TreeHead,
} from '../../log/index.js';
import { workerModule } from '../../workers/index.js';
import {
  asStorageError,
  CONNECT_TIMEOUT_MS,
  createSchema,
  listen,
  newClient,
  type SchemaUpgrades,
} from './connection.js';

/** Bumped when the tables change; a database of a newer version is refused rather than written wrongly. */
export const LOG_SCHEMA_VERSION = 2;
/** Connections per log storage: one for commits, the rest for reads. */
const POOL_SIZE = 4;

/**
 * A lookup key: the first 8 bytes of a SHA-256 as a signed big-endian int64 (as the SQLite backend keys its
 * identities), in decimal, which pg passes to a BIGINT without going through a double.
 */
export function lookupKey(digest: Buffer): string {
  return digest.readBigInt64BE(0).toString();
}

/**
 * An identity's key. Keys of different identities may collide, so a hit counts only once the entry's own stored
 * identity is the one asked for (findIdentities); a term's key colliding with it is no hit either.
 */
export const identityKey = (identity: Uint8Array) => lookupKey(hash('sha256', identity, 'buffer'));

/**
 * A search term's key. 64 bits are enough although nothing confirms a term: a false hit for one query needs a 2^-64
 * collision (~5e-11 a query with 1e9 terms stored), and a hit is only an entry's index (Rekor's search answers the
 * entry's UUID; a CT proof by hash, a path that would not verify), which the client fetches and checks anyway.
 */
const termKey = (term: string) => lookupKey(hash('sha256', term, 'buffer'));

/** The schema a log's tables live in: `sigil_` and its directory's name, made safe for an identifier. */
export function schemaFor(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
  return `sigil_${name || 'log'}`;
}

function tables(s: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.head (
  id INTEGER PRIMARY KEY CHECK (id = 0), size BIGINT NOT NULL, root BYTEA NOT NULL, ts BIGINT NOT NULL,
  checkpoint TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.entries (
  idx BIGINT PRIMARY KEY, ts BIGINT NOT NULL, data BYTEA NOT NULL, identity BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.lookup (k BIGINT NOT NULL, idx BIGINT NOT NULL, PRIMARY KEY (k, idx));
CREATE TABLE IF NOT EXISTS ${s}.tiles (
  level INTEGER NOT NULL, idx BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (level, idx));
`;
}

/** The signed int64 of a BYTEA column's first 8 bytes, in SQL: what lookupKey computes. */
const keyOf = (column: string) =>
  `('x' || encode(substring(${column} from 1 for 8), 'hex'))::bit(64)::bigint`;

/**
 * Steps from older versions of a log's tables (connection.ts createSchema). Version 1 kept identities by their
 * 32-byte SHA-256 and terms by a 16-byte prefix, each in a table of its own; both prefixes give the same keys as
 * lookupKey. The lookup table is filled before its primary key is built, which then is one sort, not a random
 * insert per row.
 */
function upgrades(s: string): SchemaUpgrades {
  return {
    2: `
CREATE TABLE ${s}.lookup (k BIGINT NOT NULL, idx BIGINT NOT NULL);
INSERT INTO ${s}.lookup (k, idx)
  SELECT ${keyOf('h')}, idx FROM ${s}.identities UNION SELECT ${keyOf('k')}, idx FROM ${s}.terms;
ALTER TABLE ${s}.lookup ADD PRIMARY KEY (k, idx);
DROP TABLE ${s}.identities, ${s}.terms;
`,
  };
}

/**
 * The reads' sessions answer only lookups by key (an identity, a term, tiles, a range of entries), for which a
 * sequential scan is never the right plan; but the planner picks one for `k = ANY(…)` of a batch's keys whenever
 * its statistics lag a fast-growing table (before autovacuum's next ANALYZE), and at millions of rows that scan
 * per batch was most of PostgreSQL's CPU (#17, bench/pg/frontends.ts). enable_seqscan=off only prices such scans
 * out: a table without a usable index is still scanned. Options the URL gives are kept.
 */
function pointLookupsOnly(url: string): string {
  let given = '';
  try {
    given = new URL(url).searchParams.get('options') ?? '';
  } catch {
    // not a URL: pg reports it when connecting
  }
  return `${given} -c enable_seqscan=off`.trim();
}

/** pg returns BIGINT as a string; every value here fits a double (indices and milliseconds). */
const num = (v: string | number) => Number(v);

/** A batch's lookup rows, as two columns: each entry's identity key and each term's key, with their indices. */
function lookupRows(batch: Parameters<LogStorage['commit']>[0]): { k: string[]; idx: number[] } {
  const k = [
    ...batch.entries.map((e) => identityKey(e.identity)),
    ...batch.terms.map((t) => termKey(t.term)),
  ];
  const idx = [...batch.entries.map((e) => e.index), ...batch.terms.map((t) => t.index)];
  return { k, idx };
}

/** The channel commits notify on (payload: the log's schema), so other processes see new heads at once. */
const HEAD_CHANNEL = 'sigil_log_head';

export class PostgresLogStorage implements LogStorage {
  readonly #url: string;
  readonly #pool: pg.Pool;
  readonly #s: string;
  readonly #ready: Promise<void>;
  /** The sequencer's own session: it holds the lease (an advisory lock) and every commit goes through it. */
  #writer: pg.Client | undefined;
  #lastCommit: Promise<void> = Promise.resolve();
  readonly election: SequencerElection;

  constructor(url: string, dir: string) {
    this.#url = url;
    this.#s = schemaFor(dir);
    this.#pool = new pg.Pool({
      connectionString: url,
      max: POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      options: pointLookupsOnly(url),
    });
    // An idle connection that drops (a restarted server) must not take the process down.
    this.#pool.on('error', () => {});
    this.#ready = createSchema(this.#pool, this.#s, tables(this.#s), LOG_SCHEMA_VERSION, upgrades(this.#s));
    this.#ready.catch(() => {});
    this.election = {
      tryLead: (url, lost) => this.#tryLead(url, lost),
      sequencerUrl: async () =>
        (await this.#query<{ value: string }>(`SELECT value FROM ${this.#s}.meta WHERE key = 'sequencer'`))
          .rows[0]?.value,
      watchHead: (changed) => this.#watchHead(changed),
    };
  }

  /**
   * The lease is a session-level advisory lock on a connection of its own, which then carries the commits: when
   * the session ends (process killed, database restarted) the lock is free for the next process, and no commit
   * of the old sequencer can follow, since its connection is gone.
   */
  async #tryLead(url: string, lost: (err: unknown) => void): Promise<boolean> {
    if (this.#writer) return true;
    await this.#ready;
    const c = newClient(this.#url);
    try {
      await c.connect();
      const r = await c.query<{ ok: boolean }>(
        `SELECT pg_try_advisory_lock(hashtext('sigil sequencer'), hashtext($1)) AS ok`,
        [this.#s],
      );
      if (!r.rows[0].ok) {
        await c.end();
        return false;
      }
      await c.query(
        `INSERT INTO ${this.#s}.meta (key, value) VALUES ('sequencer', $1) ON CONFLICT (key) DO UPDATE SET value = $1`,
        [url],
      );
    } catch (err) {
      await c.end().catch(() => {});
      throw asStorageError(err);
    }
    this.#writer = c;
    let ended = false;
    const end = (err: unknown) => {
      if (ended) return;
      ended = true;
      if (this.#writer === c) this.#writer = undefined;
      lost(err ?? new StorageUnavailableError('the sequencer lost its database session'));
    };
    c.on('error', end);
    c.on('end', () => end(undefined));
    return true;
  }

  #watchHead(changed: () => void): () => void {
    return listen(this.#url, HEAD_CHANNEL, (schema) => {
      if (schema === this.#s) changed();
    });
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      await this.#ready;
      return await this.#pool.query<R>(sql, params);
    } catch (err) {
      throw asStorageError(err);
    }
  }

  async initMeta(key: string, value: string): Promise<string> {
    await this.#query(
      `INSERT INTO ${this.#s}.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
      [key, value],
    );
    const r = await this.#query<{ value: string }>(`SELECT value FROM ${this.#s}.meta WHERE key = $1`, [key]);
    return r.rows[0].value;
  }

  async head(): Promise<TreeHead | undefined> {
    const r = await this.#query<{ size: string; root: Buffer; ts: string; checkpoint: string }>(
      `SELECT size, root, ts, checkpoint FROM ${this.#s}.head WHERE id = 0`,
    );
    const h = r.rows[0];
    return h
      ? { size: num(h.size), root: h.root, timestamp: num(h.ts), checkpoint: h.checkpoint }
      : undefined;
  }

  commit(batch: Parameters<LogStorage['commit']>[0]): Promise<void> {
    // Chained: commits go out in the order the engine issued them, each only after the previous one finished.
    const run = this.#lastCommit
      .catch(() => {})
      .then(async () => {
        const writer = this.#writer;
        if (!writer) throw new StorageUnavailableError('this process does not hold the sequencer lease');
        try {
          await this.#commit(writer, batch);
        } catch (err) {
          throw asStorageError(err);
        }
      });
    this.#lastCommit = run;
    return run;
  }

  async #commit(c: pg.ClientBase, batch: Parameters<LogStorage['commit']>[0]): Promise<void> {
    const s = this.#s;
    const start = batch.head.size - batch.entries.length;
    await c.query('BEGIN');
    try {
      const stored = await c.query<{ size: string }>(`SELECT size FROM ${s}.head WHERE id = 0 FOR UPDATE`);
      const size = stored.rows[0] ? num(stored.rows[0].size) : 0;
      if (size !== start)
        throw new Error(`batch extends a tree of ${start} entries but the stored tree has ${size}`);
      const e = batch.entries;
      if (e.length > 0) {
        await c.query(
          `INSERT INTO ${s}.entries (idx, ts, data, identity)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[])`,
          [e.map((x) => x.index), e.map((x) => x.timestamp), e.map((x) => x.data), e.map((x) => x.identity)],
        );
      }
      const keys = lookupRows(batch);
      if (keys.k.length > 0)
        await c.query(
          `INSERT INTO ${s}.lookup (k, idx) SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING`,
          [keys.k, keys.idx],
        );
      if (batch.tiles.length > 0)
        await c.query(
          `INSERT INTO ${s}.tiles (level, idx, data) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[])
           ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data`,
          [batch.tiles.map((t) => t.level), batch.tiles.map((t) => t.index), batch.tiles.map((t) => t.data)],
        );
      const h = batch.head;
      // The notification is delivered when (and only if) the transaction commits.
      await c.query(
        `WITH h AS (INSERT INTO ${s}.head (id, size, root, ts, checkpoint) VALUES (0, $1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE SET size = $1, root = $2, ts = $3, checkpoint = $4 RETURNING 1)
         SELECT pg_notify('${HEAD_CHANNEL}', $5) FROM h`,
        [h.size, h.root, h.timestamp, h.checkpoint, s],
      );
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  async readTiles(keys: TileKey[]): Promise<(Buffer | undefined)[]> {
    if (keys.length === 0) return [];
    const r = await this.#query<{ level: number; idx: string; data: Buffer }>(
      `SELECT t.level, t.idx, t.data FROM ${this.#s}.tiles t
       JOIN unnest($1::int[], $2::bigint[]) AS k(level, idx) ON t.level = k.level AND t.idx = k.idx`,
      [keys.map((k) => k.level), keys.map((k) => k.index)],
    );
    const found = new Map(r.rows.map((row) => [`${row.level}/${row.idx}`, row.data]));
    return keys.map((k) => found.get(`${k.level}/${k.index}`));
  }

  async readEntries(start: number, end: number): Promise<StoredEntry[]> {
    const r = await this.#query<{ idx: string; ts: string; data: Buffer; identity: Buffer }>(
      `SELECT idx, ts, data, identity FROM ${this.#s}.entries WHERE idx >= $1 AND idx < $2 ORDER BY idx`,
      [start, end],
    );
    return r.rows.map((row) => ({
      index: num(row.idx),
      timestamp: num(row.ts),
      data: row.data,
      identity: row.identity,
    }));
  }

  async findIdentities(identities: Uint8Array[]): Promise<(number | undefined)[]> {
    if (identities.length === 0) return [];
    const keys = identities.map(identityKey);
    // Two index probes rather than a join: the keys first (new appends, the usual caller, almost never have a
    // hit), then the stored identities of the hits only, to confirm them.
    const hits = await this.#query<{ k: string; idx: string }>(
      `SELECT k, idx FROM ${this.#s}.lookup WHERE k = ANY($1::bigint[])`,
      [keys],
    );
    if (hits.rows.length === 0) return identities.map(() => undefined);
    const stored = await this.#query<{ idx: string; identity: Buffer }>(
      `SELECT idx, identity FROM ${this.#s}.entries WHERE idx = ANY($1::bigint[])`,
      [hits.rows.map((h) => h.idx)],
    );
    const identityAt = new Map(stored.rows.map((row) => [row.idx, row.identity]));
    return identities.map((id, n) => {
      const hit = hits.rows.find((h) => h.k === keys[n] && identityAt.get(h.idx)?.equals(id));
      return hit ? num(hit.idx) : undefined;
    });
  }

  async findTerm(term: string, limit: number): Promise<number[]> {
    const r = await this.#query<{ idx: string }>(
      `SELECT idx FROM ${this.#s}.lookup WHERE k = $1 ORDER BY idx LIMIT $2`,
      [termKey(term), limit],
    );
    return r.rows.map((row) => num(row.idx));
  }

  async close(): Promise<void> {
    await this.#lastCommit.catch(() => {});
    const writer = this.#writer;
    this.#writer = undefined;
    await writer?.end().catch(() => {});
    await this.#pool.end();
  }
}

/** The backend for a database URL: a LogStorage per log directory. */
export function postgresLogStorage(url: string): OpenLogStorage {
  return (dir) => new PostgresLogStorage(url, dir);
}

/**
 * For threads that open their storage by module URL (the CT tree's thread, log/storage.ts LogStorageChoice): the
 * database URL comes from SIGIL_DATABASE_URL, which `--database` sets for the whole process, workers included.
 */
export const openLogStorage: OpenLogStorage = (dir) => {
  const url = process.env.SIGIL_DATABASE_URL;
  if (!url) throw new Error('SIGIL_DATABASE_URL is not set: the PostgreSQL log storage needs a database URL');
  return new PostgresLogStorage(url, dir);
};

/** This module's URL, for a thread that opens the storage itself (the CT tree's: see log/storage.ts). */
export const POSTGRES_LOG_STORAGE_MODULE = workerModule(new URL('./log.js', import.meta.url)).href;

/** The URL with its password masked, for messages. */
export function safeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/**
 * Checks a `--database` URL before anything is started on it: a postgres:// URL that answers a query within
 * `timeoutMs`. Throws one line saying what is wrong and what to do (never a raw driver stack).
 */
export async function checkDatabase(url: string, timeoutMs = 5000): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `--database must be a URL like postgres://user@host:5432/sigil, not ${JSON.stringify(url)}`,
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new Error(
      `--database must be a postgres:// URL (PostgreSQL is the one database backend), not ${parsed.protocol}//…`,
    );
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(
      `cannot use the database at ${safeDatabaseUrl(url)}: ${e.code ? `${e.code} ` : ''}${e.message.split('\n')[0]} (is PostgreSQL running, and does the database exist?)`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}
