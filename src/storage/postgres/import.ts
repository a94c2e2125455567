// Filling an empty PostgreSQL database from an embedded deployment (`sigil db migrate --from-sqlite`, server/
// migrate.ts): a log's rows, the CT entry queue's records and the registry's metadata, each written in one
// transaction (all or nothing) after the tables are created as the backends create them. A target that already
// holds data is refused: migration never merges two deployments.
import pg from 'pg';
import type { StoredEntry, TreeHead } from '../../log/index.js';
import { CONNECT_TIMEOUT_MS } from './connection.js';
import { identityKey, lookupKey, PostgresLogStorage, schemaFor } from './log.js';
import { PostgresRegistryMetadata } from './registry.js';

/** A log's contents as storage/sqlite/export.ts reads them. */
export interface LogRows {
  meta: { key: string; value: string }[];
  head: TreeHead | undefined;
  entries(): Iterable<{ entry: StoredEntry; termKeys: Buffer[] }[]>;
  tiles(): Iterable<{ level: number; index: number; data: Buffer }[]>;
}

async function inTransaction(url: string, work: (c: pg.Client) => Promise<void>): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  c.on('error', () => {});
  await c.connect();
  try {
    await c.query('BEGIN');
    await work(c);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * A chunk's lookup rows as PostgresLogStorage writes them: each entry's identity key, and each search term's key,
 * which is the first 8 bytes of the 16-byte SHA-256 prefix SQLite keeps for it (both are of the term's SHA-256).
 */
function lookupRows(chunk: { entry: StoredEntry; termKeys: Buffer[] }[]): { k: string[]; idx: number[] } {
  const rows = chunk.flatMap(({ entry, termKeys }) => [
    { k: identityKey(entry.identity), idx: entry.index },
    ...termKeys.map((t) => ({ k: lookupKey(t), idx: entry.index })),
  ]);
  return { k: rows.map((r) => r.k), idx: rows.map((r) => r.idx) };
}

/** Writes a log kept in directory `dir` (its schema is named after it, as PostgresLogStorage names it). */
export async function importLog(url: string, dir: string, log: LogRows): Promise<void> {
  // Creates the schema and tables, as a frontend opening the log would.
  const storage = new PostgresLogStorage(url, dir);
  const existing = await storage.head().finally(() => storage.close());
  const s = schemaFor(dir);
  if (existing)
    throw new Error(
      `the database already holds a log in ${s} (${existing.size} entries): migrate into an empty database`,
    );
  await inTransaction(url, async (c) => {
    for (const m of log.meta)
      await c.query(
        `INSERT INTO ${s}.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2`,
        [m.key, m.value],
      );
    for (const chunk of log.entries()) {
      const e = chunk.map((x) => x.entry);
      await c.query(
        `INSERT INTO ${s}.entries (idx, ts, data, identity) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[])`,
        [e.map((x) => x.index), e.map((x) => x.timestamp), e.map((x) => x.data), e.map((x) => x.identity)],
      );
      const keys = lookupRows(chunk);
      await c.query(
        `INSERT INTO ${s}.lookup (k, idx) SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING`,
        [keys.k, keys.idx],
      );
    }
    for (const chunk of log.tiles())
      await c.query(
        `INSERT INTO ${s}.tiles (level, idx, data) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[])`,
        [chunk.map((t) => t.level), chunk.map((t) => t.index), chunk.map((t) => t.data)],
      );
    const h = log.head;
    if (h)
      await c.query(`INSERT INTO ${s}.head (id, size, root, ts, checkpoint) VALUES (0, $1, $2, $3, $4)`, [
        h.size,
        h.root,
        h.timestamp,
        h.checkpoint,
      ]);
  });
}

/** Writes the registry's metadata tables (same names and columns as the SQLite backend's). */
export async function importRegistry(
  url: string,
  tables: Iterable<{ table: string; rows: Record<string, unknown>[] }>,
): Promise<number> {
  // Creates the schema and tables, as a frontend opening the registry would.
  const metadata = new PostgresRegistryMetadata(url);
  await metadata.close();
  let count = 0;
  await inTransaction(url, async (c) => {
    const used = await c.query('SELECT 1 FROM sigil_registry.repositories LIMIT 1');
    if (used.rows.length > 0)
      throw new Error('the database already holds registry metadata: migrate into an empty database');
    for (const { table, rows } of tables) {
      if (!/^[a-z_]+$/.test(table)) throw new Error(`not a registry table: ${table}`);
      const columns = Object.keys(rows[0]);
      if (!columns.every((col) => /^[a-z_]+$/.test(col))) throw new Error(`unexpected columns in ${table}`);
      // One row at a time keeps each column's type PostgreSQL's to infer from the table; the tables are small.
      const sql = `INSERT INTO sigil_registry.${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
      for (const row of rows)
        await c.query(
          sql,
          columns.map((col) => row[col]),
        );
      count += rows.length;
    }
  });
  return count;
}
