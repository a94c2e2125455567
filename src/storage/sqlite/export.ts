// Reading an embedded deployment's SQLite databases out whole, for `sigil db migrate --from-sqlite` (server/
// migrate.ts): a log's rows in the terms PostgreSQL's log tables take, and the registry metadata's tables as they
// are (both backends keep the same columns). Read-only; every row is read in index order, a chunk at a time.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StoredEntry, TreeHead } from '../../log/index.js';

const CHUNK = 5000;

/** One log's contents, as storage/postgres/import.ts writes them. */
export interface ExportedLog {
  meta: { key: string; value: string }[];
  head: TreeHead | undefined;
  /** Entries in index order, with their search terms' lookup keys (16 bytes each), a chunk at a time. */
  entries(): Iterable<{ entry: StoredEntry; termKeys: Buffer[] }[]>;
  /** Stored tiles, a chunk at a time. */
  tiles(): Iterable<{ level: number; index: number; data: Buffer }[]>;
  close(): void;
}

/** A log's database in `dir` (log.db), or undefined when there is none. */
export function exportSqliteLog(dir: string): ExportedLog | undefined {
  const path = join(dir, 'log.db');
  if (!existsSync(path)) return undefined;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const head = db.prepare('SELECT size, root, ts, checkpoint FROM head WHERE id = 0').get() as
    | { size: number; root: Buffer; ts: number; checkpoint: string }
    | undefined;
  const entryRows = db.prepare<
    [number, number],
    { idx: number; ts: number; data: Buffer; identity: Buffer; terms: Buffer | null }
  >('SELECT idx, ts, data, identity, terms FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx');
  // Entries merged into the index before the row kept its terms (older databases) have them only in `terms`.
  const indexedTerms = db.prepare<[number, number], { k: Buffer; idx: number }>(
    'SELECT k, idx FROM terms WHERE idx >= ? AND idx < ?',
  );
  const size = head?.size ?? 0;
  return {
    meta: db.prepare('SELECT key, value FROM meta ORDER BY key').all() as { key: string; value: string }[],
    head: head && { size: head.size, root: head.root, timestamp: head.ts, checkpoint: head.checkpoint },
    *entries() {
      for (let start = 0; start < size; start += CHUNK) {
        const extra = new Map<number, Buffer[]>();
        for (const t of indexedTerms.iterate(start, start + CHUNK)) {
          const list = extra.get(t.idx) ?? [];
          list.push(t.k);
          extra.set(t.idx, list);
        }
        yield entryRows.all(start, start + CHUNK).map((r) => {
          const keys: Buffer[] = [...(extra.get(r.idx) ?? [])];
          for (let at = 0; r.terms && at + 16 <= r.terms.length; at += 16)
            keys.push(r.terms.subarray(at, at + 16));
          return {
            entry: { index: r.idx, timestamp: r.ts, data: r.data, identity: r.identity },
            termKeys: keys,
          };
        });
      }
    },
    *tiles() {
      let batch: { level: number; index: number; data: Buffer }[] = [];
      for (const t of db
        .prepare('SELECT level, idx, data FROM tiles ORDER BY level, idx')
        .iterate() as Iterable<{ level: number; idx: number; data: Buffer }>) {
        batch.push({ level: t.level, index: t.idx, data: t.data });
        if (batch.length === CHUNK) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
    close: () => db.close(),
  };
}

/** The registry metadata's tables (their names, and columns the PostgreSQL backend shares). */
export const REGISTRY_TABLES = [
  'repositories',
  'repo_blobs',
  'manifest_content',
  'manifests',
  'manifest_blobs',
  'tags',
];

/** Each registry table's rows, a chunk at a time, from the metadata database at `path`. */
export function* exportSqliteRegistry(
  path: string,
): Iterable<{ table: string; rows: Record<string, unknown>[] }> {
  if (!existsSync(path)) return;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    for (const table of REGISTRY_TABLES) {
      let rows: Record<string, unknown>[] = [];
      for (const row of db.prepare(`SELECT * FROM ${table}`).iterate() as Iterable<Record<string, unknown>>) {
        rows.push(row);
        if (rows.length === CHUNK) {
          yield { table, rows };
          rows = [];
        }
      }
      if (rows.length > 0) yield { table, rows };
    }
  } finally {
    db.close();
  }
}
