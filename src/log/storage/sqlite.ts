// The embedded storage backend: one SQLite database (better-sqlite3) in the data directory, in WAL mode with
// synchronous=FULL so that each batch commit is one durable transaction (one WAL fsync). Lookups go through short
// keys to keep the indexes small as the log grows: identities by an 8-byte SHA-256 prefix, confirmed against the
// full identity stored with the entry; search terms by a 16-byte prefix, too long to collide even on purpose.
// Batch commits run on a writer thread with its own connection (sqlite-writer.ts), so the main thread keeps
// serving requests while a batch is written and fsynced; reads use the main thread's connection (WAL readers see
// every committed batch, and a batch is acknowledged only once its commit returned).
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { startWorker } from '../workers.js';
import { encodeBatch } from './batch-wire.js';
import type { BatchWrite, LogStorage, StoredEntry, TileKey, TreeHead } from './types.js';

/** Page cache: big enough that the hot part of the lookup indexes stays in memory at millions of entries. */
const CACHE_KIB = 128 * 1024;
/** How long a connection waits for the other one's write lock (meta writes vs batch commits) before failing. */
const BUSY_TIMEOUT_MS = 10_000;

function key8(bytes: Uint8Array | string): bigint {
  return createHash('sha256').update(bytes).digest().readBigInt64BE(0);
}

function key16(term: string): Buffer {
  return createHash('sha256').update(term).digest().subarray(0, 16);
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS head (
  id INTEGER PRIMARY KEY CHECK (id = 0), size INTEGER NOT NULL, root BLOB NOT NULL,
  ts INTEGER NOT NULL, checkpoint TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
  idx INTEGER PRIMARY KEY, ts INTEGER NOT NULL, data BLOB NOT NULL, identity BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS identities (k INTEGER NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (k, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS terms (k BLOB NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (k, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tiles (
  level INTEGER NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
`;

interface EntryRow {
  idx: number;
  ts: number;
  data: Buffer;
  identity: Buffer;
}

/** A connection with the log's settings; the schema is created by the first opener (the main thread). */
export function openDatabase(path: string, { schema = true } = {}): Database.Database {
  const db = new Database(path);
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  // FULL: the WAL is fsynced at every commit, so an acknowledged batch survives power loss, not only kill -9.
  db.pragma('synchronous = FULL');
  db.pragma(`cache_size = -${CACHE_KIB}`);
  if (schema) db.exec(SCHEMA);
  return db;
}

/** The batch commit on `db`: one IMMEDIATE transaction for the entries, index keys, tiles and the new head. */
export function batchWriter(db: Database.Database): (batch: BatchWrite) => void {
  const q = {
    setHead: db.prepare(
      'INSERT INTO head (id, size, root, ts, checkpoint) VALUES (0, ?, ?, ?, ?) ' +
        'ON CONFLICT (id) DO UPDATE SET size = excluded.size, root = excluded.root, ts = excluded.ts, ' +
        'checkpoint = excluded.checkpoint',
    ),
    insertEntry: db.prepare('INSERT INTO entries (idx, ts, data, identity) VALUES (?, ?, ?, ?)'),
    insertIdentity: db.prepare('INSERT INTO identities (k, idx) VALUES (?, ?)'),
    insertTerm: db.prepare('INSERT OR IGNORE INTO terms (k, idx) VALUES (?, ?)'),
    putTile: db.prepare(
      'INSERT INTO tiles (level, idx, data) VALUES (?, ?, ?) ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data',
    ),
  };
  const headSize = db.prepare<[], { size: number }>('SELECT size FROM head WHERE id = 0');
  const commit = db.transaction((batch: BatchWrite) => {
    // Batches are issued in order while earlier ones may still be committing; one that does not extend the stored
    // head (because an earlier one failed) must not be written over the gap.
    const start = batch.head.size - batch.entries.length;
    const stored = headSize.get()?.size ?? 0;
    if (stored !== start) {
      throw new Error(`batch extends a tree of ${start} entries but the stored tree has ${stored}`);
    }
    for (const e of batch.entries) {
      q.insertEntry.run(e.index, e.timestamp, e.data, e.identity);
      q.insertIdentity.run(key8(e.identity), e.index);
    }
    for (const t of batch.terms) q.insertTerm.run(key16(t.term), t.index);
    for (const t of batch.tiles) q.putTile.run(t.level, t.index, t.data);
    const h = batch.head;
    q.setHead.run(h.size, h.root, h.timestamp, h.checkpoint);
  });
  return (batch) => commit.immediate(batch);
}

export interface SqliteStorageOptions {
  /** Commit batches on a writer thread (default) or on the calling thread. */
  writerThread?: boolean;
}

export function openSqliteStorage(
  dir: string,
  file = 'log.db',
  { writerThread = true }: SqliteStorageOptions = {},
): LogStorage {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  const db = openDatabase(path);

  const q = {
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)'),
    head: db.prepare<[], { size: number; root: Buffer; ts: number; checkpoint: string }>(
      'SELECT size, root, ts, checkpoint FROM head WHERE id = 0',
    ),
    getTile: db.prepare<[number, number], { data: Buffer }>(
      'SELECT data FROM tiles WHERE level = ? AND idx = ?',
    ),
    entries: db.prepare<[number, number], EntryRow>(
      'SELECT idx, ts, data, identity FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx',
    ),
    findIdentity: db.prepare<[bigint], { idx: number; identity: Buffer }>(
      'SELECT i.idx AS idx, e.identity AS identity FROM identities i JOIN entries e ON e.idx = i.idx WHERE i.k = ?',
    ),
    findTerm: db.prepare<[Buffer, number], { idx: number }>(
      'SELECT idx FROM terms WHERE k = ? ORDER BY idx LIMIT ?',
    ),
  };

  const writer: { commit(batch: BatchWrite): Promise<void>; close(): Promise<void> } = writerThread
    ? new WriterThread(path)
    : (() => {
        const write = batchWriter(db);
        return { commit: async (batch: BatchWrite) => write(batch), close: async () => {} };
      })();

  const toEntry = (r: EntryRow): StoredEntry => ({
    index: r.idx,
    timestamp: r.ts,
    data: r.data,
    identity: r.identity,
  });

  return {
    async getMeta(key) {
      return q.getMeta.get(key)?.value;
    },
    async setMeta(key, value) {
      q.setMeta.run(key, value);
    },
    async head(): Promise<TreeHead | undefined> {
      const r = q.head.get();
      return r && { size: r.size, root: r.root, timestamp: r.ts, checkpoint: r.checkpoint };
    },
    commit(batch) {
      return writer.commit(batch);
    },
    async readTiles(keys: TileKey[]) {
      return keys.map((k) => q.getTile.get(k.level, k.index)?.data);
    },
    async readEntries(start, end) {
      return q.entries.all(start, end).map(toEntry);
    },
    async findIdentity(identity) {
      const want = Buffer.from(identity);
      return q.findIdentity.all(key8(identity)).find((r) => r.identity.equals(want))?.idx;
    },
    async findTerm(term, limit) {
      return q.findTerm.all(key16(term), limit).map((r) => r.idx);
    },
    async close() {
      await writer.close();
      if (db.open) db.close();
    },
  };
}

/** Messages to and from sqlite-writer.ts. */
/** A commit carries the batch as encodeBatch's buffer (transferred, not cloned). */
export type WriterRequest =
  | { id: number; type: 'commit'; batch: ArrayBuffer }
  | { id: number; type: 'close' };
export interface WriterReply {
  id: number;
  error?: string;
}

/**
 * The main thread's side of the writer thread. One request at a time is typical (the engine awaits each commit),
 * but any number may queue. The worker is referenced (keeps the process alive) only while it owes a reply.
 */
class WriterThread {
  readonly #path: string;
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #nextId = 0;

  constructor(path: string) {
    this.#path = path;
  }

  #start(): Worker {
    const w = startWorker(new URL('./sqlite-writer.js', import.meta.url), { path: this.#path });
    w.on('message', (m: WriterReply) => {
      const p = this.#waiting.get(m.id);
      if (!p) return;
      this.#waiting.delete(m.id);
      if (this.#waiting.size === 0) w.unref();
      if (m.error !== undefined) p.reject(new Error(`log storage commit failed: ${m.error}`));
      else p.resolve();
    });
    const fail = (err: Error) => {
      // The writer died (it should not): what it owed is not known to be committed, so it fails; the next
      // request starts a new writer.
      if (this.#worker === w) this.#worker = undefined;
      for (const p of this.#waiting.values()) p.reject(err);
      this.#waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`log storage writer exited with code ${code}`)));
    w.unref();
    return w;
  }

  #request(req: WriterRequest): Promise<void> {
    this.#worker ??= this.#start();
    const w = this.#worker;
    return new Promise((resolve, reject) => {
      w.postMessage(req, req.type === 'commit' ? [req.batch] : []);
      this.#waiting.set(req.id, { resolve, reject });
      if (this.#waiting.size === 1) w.ref();
    });
  }

  commit(batch: BatchWrite): Promise<void> {
    return this.#request({ id: this.#nextId++, type: 'commit', batch: encodeBatch(batch) });
  }

  async close(): Promise<void> {
    const w = this.#worker;
    if (!w) return;
    await this.#request({ id: this.#nextId++, type: 'close' });
    this.#worker = undefined;
    await w.terminate();
  }
}
