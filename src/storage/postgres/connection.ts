// What the PostgreSQL backends share about connections: errors that mean "the database is unavailable right now"
// (a 503 to the client, never a 500), and LISTEN/NOTIFY, by which a frontend hears at once when another one
// committed something (a log's new head, a CT entry queued). Listening is best effort: a dropped connection is
// re-made after a second, and the callers poll as well.
import pg from 'pg';
import { StorageUnavailableError } from '../../log/index.js';

/** Connection attempts give up after this long, so nothing hangs on an unreachable database. */
export const CONNECT_TIMEOUT_MS = 3000;
/** How soon a dropped listener reconnects. */
const LISTEN_RETRY_MS = 1000;

/** Errors that mean the database cannot be reached right now (connection refused or lost, server restarting). */
function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(e.code))
      return true;
    // SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, cannot connect now).
    if (/^(08|57P)/.test(e.code)) return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    e?.message ?? '',
  );
}

/** A database error as the engines should see it: unavailability is StorageUnavailableError (HTTP 503). */
export function asStorageError(err: unknown): unknown {
  if (!isUnavailable(err)) return err;
  const why = (err as Error).message?.split('\n')[0] ?? String(err);
  return new StorageUnavailableError(`the database is unavailable (${why}); retry shortly`);
}

/** Runs `work` in one transaction on a connection of `pool`, rolled back if it throws. */
export async function inTransaction<R>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<R>): Promise<R> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await work(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

/**
 * How a backend's tables are upgraded in place: `upgrades[v]` is the SQL that turns version v - 1 into version v.
 * A database keeps its data across sigil releases, so a release that changes tables brings the step from the
 * previous version instead of asking for a re-migration.
 */
export type SchemaUpgrades = Readonly<Record<number, string>>;

/**
 * Creates a backend's tables (`ddl`: idempotent, with a `<schema>.meta` key/value table) under an advisory lock, so
 * frontends starting together do not race, and records their version. Older tables are first upgraded step by step
 * (`upgrades`) in the same transaction, so a failed step leaves them as they were; a database whose tables are of a
 * newer version is refused rather than written wrongly.
 */
export async function createSchema(
  pool: pg.Pool,
  schema: string,
  ddl: string,
  version: number,
  upgrades: SchemaUpgrades = {},
): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [schema]);
    const have = await storedVersion(c, schema);
    if (have !== undefined && have > version)
      throw new Error(
        `the database's ${schema} tables are of schema version ${have}, newer than this sigil's ${version}: upgrade sigil`,
      );
    for (let v = (have ?? version) + 1; v <= version; v++) {
      const step = upgrades[v];
      if (step === undefined)
        throw new Error(`no upgrade of the ${schema} tables from version ${v - 1} to ${v}`);
      await c.query(step);
    }
    await c.query(ddl);
    if (have !== version)
      await c.query(
        `INSERT INTO ${schema}.meta (key, value) VALUES ('schema_version', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [String(version)],
      );
  });
}

/** The version recorded in `<schema>.meta`, or undefined before the tables were first created. */
async function storedVersion(c: pg.ClientBase, schema: string): Promise<number | undefined> {
  const meta = await c.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${schema}.meta`]);
  if (!meta.rows[0].t) return undefined;
  const v = await c.query<{ value: string }>(`SELECT value FROM ${schema}.meta WHERE key = 'schema_version'`);
  return v.rows[0] ? Number(v.rows[0].value) : undefined;
}

/** A client whose connection errors are handled by its user (never an unhandled 'error' event). */
export function newClient(url: string): pg.Client {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  c.on('error', () => {});
  return c;
}

/** Calls `heard(payload)` for each notification on `channel` until the returned function is called. */
export function listen(url: string, channel: string, heard: (payload: string) => void): () => void {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    if (stopped) return;
    const c = newClient(url);
    client = c;
    const again = () => {
      if (client !== c || stopped) return;
      client = undefined;
      retry = setTimeout(connect, LISTEN_RETRY_MS);
      retry.unref();
    };
    c.on('error', again);
    c.on('end', again);
    c.on('notification', (n) => heard(n.payload ?? ''));
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch {
      c.end().catch(() => {});
      again();
    }
  };
  void connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    client?.end().catch(() => {});
  };
}
