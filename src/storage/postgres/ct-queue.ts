// The CT log's entry queue in PostgreSQL (ct/store.ts CtEntryStore), when `--database` is given: every frontend's
// CA queues the precertificates it logs here, and the frontend elected to sequence the CT tree merges them
// (docs/design/scale-out.md). An SCT is released only once its record is committed, as with the file queue.
// Indices are gap-free and commit in order: each group of records takes its range from a counter row, whose lock
// is held until the group commits, so when a commit is seen every lower index is committed too (a SEQUENCE would
// leave gaps on rollback and let a later index commit first). Records queued together in a process share one
// transaction (group commit).
import pg from 'pg';
import type { CtEntryStore } from '../../ct/index.js';
import { asStorageError, CONNECT_TIMEOUT_MS, createSchema, listen } from './connection.js';

const SCHEMA = 'sigil_ct_queue';
/** Bumped when the tables change; a database of a newer version is refused rather than written wrongly. */
export const CT_QUEUE_SCHEMA_VERSION = 1;
/** Commits notify here, so the sequencer merges other frontends' entries at once. */
const CHANNEL = 'sigil_ct_queue';
/** Most records in one group commit. */
const MAX_GROUP = 1024;
/** How often the queue's length is read again even without a notification. */
const POLL_MS = 1000;

const TABLES = `
CREATE SCHEMA IF NOT EXISTS ${SCHEMA};
CREATE TABLE IF NOT EXISTS ${SCHEMA}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ${SCHEMA}.records (idx BIGINT PRIMARY KEY, record BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS ${SCHEMA}.counter (id INTEGER PRIMARY KEY CHECK (id = 0), next BIGINT NOT NULL);
INSERT INTO ${SCHEMA}.counter (id, next) VALUES (0, 0) ON CONFLICT (id) DO NOTHING;
`;

interface Pending {
  record: Buffer;
  resolve: (index: number) => void;
  reject: (err: unknown) => void;
}

/** Opens (creating if needed) the queue in the database at `url`. */
export async function openPostgresCtQueue(url: string): Promise<CtEntryStore> {
  const pool = new pg.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  pool.on('error', () => {});
  const query = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => {
    try {
      return await pool.query<R>(sql, params);
    } catch (err) {
      throw asStorageError(err);
    }
  };
  await createSchema(pool, SCHEMA, TABLES, CT_QUEUE_SCHEMA_VERSION);
  /** Records committed, as far as this process knows: every index below it is committed (see the header). */
  let known = 0;
  const readLength = async () => {
    const r = await query<{ next: string }>(`SELECT next FROM ${SCHEMA}.counter WHERE id = 0`);
    const next = Number(r.rows[0].next);
    const grew = next > known;
    known = Math.max(known, next);
    return grew;
  };
  await readLength();

  let pending: Pending[] = [];
  let writing = false;
  let closed = false;
  let idle: (() => void) | undefined;

  const writeGroup = async (group: Pending[]) => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const r = await c.query<{ next: string }>(
        `UPDATE ${SCHEMA}.counter SET next = next + $1 WHERE id = 0 RETURNING next`,
        [group.length],
      );
      const start = Number(r.rows[0].next) - group.length;
      await c.query(
        `INSERT INTO ${SCHEMA}.records (idx, record) SELECT * FROM unnest($1::bigint[], $2::bytea[])`,
        [group.map((_, i) => start + i), group.map((p) => p.record)],
      );
      await c.query('SELECT pg_notify($1, $2)', [CHANNEL, String(start + group.length)]);
      await c.query('COMMIT');
      return start;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw asStorageError(err);
    } finally {
      c.release();
    }
  };

  const kick = () => {
    if (writing || pending.length === 0) {
      if (!writing && pending.length === 0) idle?.();
      return;
    }
    writing = true;
    const group = pending.slice(0, MAX_GROUP);
    pending = pending.slice(group.length);
    writeGroup(group)
      .then(
        (start) => {
          known = Math.max(known, start + group.length);
          for (const [i, p] of group.entries()) p.resolve(start + i);
        },
        (err) => {
          for (const p of group) p.reject(err);
        },
      )
      .finally(() => {
        writing = false;
        kick();
      });
  };

  const stops: (() => void)[] = [];
  return {
    append(record) {
      if (closed) return Promise.reject(new Error('CT entry queue is closed'));
      if (record.length === 0) return Promise.reject(new Error('a CT entry record cannot be empty'));
      const done = new Promise<number>((resolve, reject) => pending.push({ record, resolve, reject }));
      // Records arriving in the same turn of the event loop share a transaction.
      setImmediate(kick);
      return done;
    },
    size: () => known,
    async read(start, end) {
      if (
        !(
          Number.isSafeInteger(start) &&
          Number.isSafeInteger(end) &&
          0 <= start &&
          start <= end &&
          end <= known
        )
      )
        throw new RangeError(`no CT entries ${start}..${end} (the queue holds ${known})`);
      if (start === end) return [];
      const r = await query<{ record: Buffer }>(
        `SELECT record FROM ${SCHEMA}.records WHERE idx >= $1 AND idx < $2 ORDER BY idx`,
        [start, end],
      );
      if (r.rows.length !== end - start)
        throw new Error(`CT entries ${start}..${end} could not be read back`);
      return r.rows.map((row) => row.record);
    },
    watch(grown) {
      const check = () =>
        readLength().then(
          (grew) => grew && grown(),
          () => {},
        );
      stops.push(listen(url, CHANNEL, () => void check()));
      const poll = setInterval(check, POLL_MS);
      poll.unref();
      stops.push(() => clearInterval(poll));
    },
    async close() {
      closed = true;
      for (const stop of stops) stop();
      if (writing || pending.length > 0) await new Promise<void>((r) => (idle = r));
      await pool.end();
    },
  };
}
