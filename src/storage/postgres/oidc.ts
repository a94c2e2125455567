// The CI issuer's runners and runs in PostgreSQL (oidc/record-file.ts RecordStore), with `--database`: every
// frontend's issuer and every `sigil oidc` command read and change the same lists. A change is one transaction
// that holds the list's row (SELECT … FOR UPDATE), so runs started through two frontends at once are both kept.
import pg from 'pg';
import type { OpenOidcStores, RecordStore } from '../../oidc/index.js';
import { asStorageError, CONNECT_TIMEOUT_MS, createSchema, inTransaction } from './connection.js';

const S = 'sigil_oidc';
/** Bumped when the tables change; a database of a newer version is refused rather than written wrongly. */
export const OIDC_SCHEMA_VERSION = 1;

const pools = new Map<string, { pool: pg.Pool; ready: Promise<void> }>();

/** One pool per database for the process; idle, it lets a short `sigil oidc` command exit. */
function poolFor(url: string) {
  let entry = pools.get(url);
  if (!entry) {
    const pool = new pg.Pool({
      connectionString: url,
      max: 4,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      allowExitOnIdle: true,
    });
    pool.on('error', () => {});
    const ready = createSchema(
      pool,
      S,
      `CREATE SCHEMA IF NOT EXISTS ${S};
       CREATE TABLE IF NOT EXISTS ${S}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
       CREATE TABLE IF NOT EXISTS ${S}.records (name TEXT PRIMARY KEY, value JSONB NOT NULL);`,
      OIDC_SCHEMA_VERSION,
    );
    ready.catch(() => {});
    entry = { pool, ready };
    pools.set(url, entry);
  }
  return entry;
}

function recordStore<T>(url: string, name: string): RecordStore<T> {
  return {
    async load() {
      const { pool, ready } = poolFor(url);
      await ready;
      try {
        const r = await pool.query<{ value: T[] }>(`SELECT value FROM ${S}.records WHERE name = $1`, [name]);
        return r.rows[0]?.value ?? [];
      } catch (err) {
        throw asStorageError(err);
      }
    },
    async update(change) {
      const { pool, ready } = poolFor(url);
      await ready;
      // A change refused by `change` (a runner name taken) keeps its own error; a lost connection is a 503.
      await inTransaction(pool, async (c) => {
        await c.query(
          `INSERT INTO ${S}.records (name, value) VALUES ($1, '[]') ON CONFLICT (name) DO NOTHING`,
          [name],
        );
        const r = await c.query<{ value: T[] }>(`SELECT value FROM ${S}.records WHERE name = $1 FOR UPDATE`, [
          name,
        ]);
        const next = change(r.rows[0].value);
        await c.query(`UPDATE ${S}.records SET value = $2 WHERE name = $1`, [name, JSON.stringify(next)]);
      }).catch((err) => {
        throw asStorageError(err);
      });
    },
  };
}

/** The issuer's runners and runs in the database at `url` (the data dir is not used for them). */
export function postgresOidcStores(url: string): OpenOidcStores {
  return () => ({ runners: recordStore(url, 'runners'), runs: recordStore(url, 'runs') });
}
