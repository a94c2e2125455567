// The embedded storage backend: one SQLite database (better-sqlite3) in the data directory, in WAL mode with
// synchronous=FULL so that each batch commit is one durable transaction (one WAL fsync). Lookups go through short
// keys to keep the indexes small as the log grows: identities by an 8-byte SHA-256 prefix, confirmed against the
// full identity stored with the entry; search terms by a 16-byte prefix, too long to collide even on purpose.
// Batch commits run on a writer thread with its own connection (sqlite-writer.ts), so the main thread keeps
// serving requests while a batch is written and fsynced; reads use the main thread's connection (WAL readers see
// every committed batch, and a batch is acknowledged only once its commit returned).
// The lookup index is kept behind the log, as Rekor keeps its search index beside Trillian: a batch commit writes
// only sequential rows (entries, each with its term keys; tiles; the head), and the random-key index rows of the
// latest entries live in memory (pending-index.ts) until INDEX_MERGE_ENTRIES of them are merged into the index
// tables, sorted, in key-range chunks. Inserting each entry's keys at random places in large B-trees as it was
// committed dirtied a page per key per batch, and made appends ~25% slower at a million entries than on an empty
// log. Nothing is lost in a crash: the merge is idempotent and resumes from the entries' own term keys.
import { hash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { LogStorage, StoredEntry, TileKey, TreeHead } from '../../../log/index.js';
import { type Calls, callsOver, startWorker, workerModule } from '../../../workers/index.js';
import { encodeBatch, type WireBatch } from './batch-wire.js';
import { type KeyFilter, keyFilter, keyHalves } from './key-filter.js';
import { type PendingIndex, pendingIndex } from './pending-index.js';

/** Page cache: big enough that the hot part of the lookup indexes stays in memory at millions of entries. */
const CACHE_KIB = 128 * 1024;
/** Committed entries whose index rows are held in memory before they are merged into the index tables. */
export const INDEX_MERGE_ENTRIES = 65_536;
/** Wait after a failed index merge before the next attempt. */
const MERGE_RETRY_MS = 1000;
/**
 * Keys inserted per merge transaction; the writer takes batch commits between chunks, so this bounds how long a
 * commit can wait behind a merge (~6 ms at 1 M entries). Runs cover key ranges, so smaller runs rewrite no more
 * pages in all: 1,024 keys a run cost the same CPU per merge as 4,096 (514 vs 524 ms at 1 M entries), in steps a
 * quarter as long.
 */
const MERGE_CHUNK_KEYS = 1024;
/** How long a connection waits for the other one's write lock (meta writes vs batch commits) before failing. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * An identity's lookup key: the first 8 bytes of its SHA-256, as the identities table's signed integer and as the
 * filter's two halves. One-shot crypto.hash: about half the cost of a Hash object, and this runs per entry.
 */
function identityKey(identity: Uint8Array): { k: bigint; hi: number; lo: number } {
  const h = hash('sha256', identity, 'buffer');
  return { k: h.readBigInt64BE(0), hi: h.readUInt32BE(0), lo: h.readUInt32BE(4) };
}

/** The lookup key of a search term (also what pending-index.ts holds). */
export function termKey(term: string): Buffer {
  return hash('sha256', term, 'buffer').subarray(0, 16);
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS head (
  id INTEGER PRIMARY KEY CHECK (id = 0), size INTEGER NOT NULL, root BLOB NOT NULL,
  ts INTEGER NOT NULL, checkpoint TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
  idx INTEGER PRIMARY KEY, ts INTEGER NOT NULL, data BLOB NOT NULL, identity BLOB NOT NULL, terms BLOB);
CREATE TABLE IF NOT EXISTS indexed (id INTEGER PRIMARY KEY CHECK (id = 0), size INTEGER NOT NULL);
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
  if (schema) createSchema(db);
  return db;
}

/**
 * Creates the tables, or brings a database from before the deferred index up to date: its entries were indexed as
 * they were committed, so all of them count as merged. `indexed.size`: entries below it are in the index tables.
 */
function createSchema(db: Database.Database): void {
  db.transaction(() => {
    db.exec(SCHEMA);
    const columns = db.pragma('table_info(entries)') as { name: string }[];
    if (!columns.some((c) => c.name === 'terms')) {
      db.exec('ALTER TABLE entries ADD COLUMN terms BLOB');
      db.exec('INSERT OR REPLACE INTO indexed (id, size) SELECT 0, size FROM head WHERE id = 0');
    }
    db.exec('INSERT OR IGNORE INTO indexed (id, size) VALUES (0, 0)');
  }).immediate();
}

/** The batch commit on `db`: one IMMEDIATE transaction for the entries (with their term keys), tiles and head. */
export function batchWriter(db: Database.Database): (batch: WireBatch) => void {
  const q = {
    setHead: db.prepare(
      'INSERT INTO head (id, size, root, ts, checkpoint) VALUES (0, ?, ?, ?, ?) ' +
        'ON CONFLICT (id) DO UPDATE SET size = excluded.size, root = excluded.root, ts = excluded.ts, ' +
        'checkpoint = excluded.checkpoint',
    ),
    insertEntry: db.prepare('INSERT INTO entries (idx, ts, data, identity, terms) VALUES (?, ?, ?, ?, ?)'),
    putTile: db.prepare(
      'INSERT INTO tiles (level, idx, data) VALUES (?, ?, ?) ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data',
    ),
  };
  const headSize = db.prepare<[], { size: number }>('SELECT size FROM head WHERE id = 0');
  const commit = db.transaction((batch: WireBatch) => {
    // Batches are issued in order while earlier ones may still be committing; one that does not extend the stored
    // head (because an earlier one failed) must not be written over the gap.
    const start = batch.head.size - batch.entries.length;
    const stored = headSize.get()?.size ?? 0;
    if (stored !== start) {
      throw new Error(`batch extends a tree of ${start} entries but the stored tree has ${stored}`);
    }
    for (const e of batch.entries) {
      q.insertEntry.run(e.index, e.timestamp, e.data, e.identity, e.termKeys.length > 0 ? e.termKeys : null);
    }
    for (const t of batch.tiles) q.putTile.run(t.level, t.index, t.data);
    const h = batch.head;
    q.setHead.run(h.size, h.root, h.timestamp, h.checkpoint);
  });
  return (batch) => commit.immediate(batch);
}

const splitKeys = (blob: Buffer | null): Buffer[] => {
  const out: Buffer[] = [];
  for (let at = 0; blob && at + 16 <= blob.length; at += 16) out.push(blob.subarray(at, at + 16));
  return out;
};

/** One lookup-index row to merge: an identity's 8-byte key or a term's 16-byte key, and the entry's index. */
interface KeyRow<K> {
  k: K;
  idx: number;
}

const byIdentityKey = (a: KeyRow<bigint>, b: KeyRow<bigint>) =>
  a.k < b.k ? -1 : a.k > b.k ? 1 : a.idx - b.idx;
const byTermKey = (a: KeyRow<Buffer>, b: KeyRow<Buffer>) => Buffer.compare(a.k, b.k) || a.idx - b.idx;

/** Index rows bucketed by the first byte of their key, so that a merge can insert them a key range at a time. */
interface Buckets {
  ids: KeyRow<bigint>[][];
  terms: KeyRow<Buffer>[][];
}

const emptyBuckets = (): Buckets => ({
  ids: Array.from({ length: 256 }, () => []),
  terms: Array.from({ length: 256 }, () => []),
});

/** Adds an entry's index rows (its identity's key, each of its term keys) to the buckets. */
function addRows(b: Buckets, idx: number, identity: Uint8Array, termKeys: Buffer | null): void {
  const { k } = identityKey(identity);
  b.ids[Number(BigInt.asUintN(64, k) >> 56n)].push({ k, idx });
  for (const t of splitKeys(termKeys)) b.terms[t[0]].push({ k: t, idx });
}

/** The index rows of the committed entries [start, end), gathered by the writer as it committed them. */
export interface GatheredRows extends Buckets {
  start: number;
  end: number;
}

/**
 * Merges the index rows of entries [indexed.size, upTo) into the index tables, one bounded step per call of the
 * generator's next() (the writer runs one per turn of its event loop and commits batches in between, so no step
 * holds a commit up for long). The rows come from `gathered` where it covers them (the writer keeps the keys of
 * what it commits) and are read back from the entries, MERGE_CHUNK_KEYS rows a step, where it does not (after a
 * restart, or a failed merge). Then each run of consecutive buckets holding about MERGE_CHUNK_KEYS keys is
 * sorted and inserted in one transaction, so that it touches only its key range's B-tree pages. The last step
 * records the new indexed size. The transactions are not fsynced on their own (the next batch commit's fsync
 * covers the WAL before it), and they are idempotent: a merge cut short by a crash is simply done again.
 */
export function* indexMergeSteps(
  db: Database.Database,
  upTo: number,
  gathered?: GatheredRows,
): Generator<void, void, void> {
  const from = db.prepare<[], { size: number }>('SELECT size FROM indexed WHERE id = 0').get()?.size ?? 0;
  if (upTo <= from) return;
  const readRows = db.prepare<[number, number], { idx: number; identity: Buffer; terms: Buffer | null }>(
    'SELECT idx, identity, terms FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx',
  );
  const covered = gathered && gathered.start <= from && gathered.end >= upTo ? gathered : undefined;
  const rows = covered ?? emptyBuckets();
  if (!covered) {
    for (let at = from; at < upTo; at += MERGE_CHUNK_KEYS) {
      for (const r of readRows.all(at, Math.min(upTo, at + MERGE_CHUNK_KEYS))) {
        addRows(rows, r.idx, r.identity, r.terms);
      }
      yield;
    }
  }
  const unsynced = db.transaction((insert: () => void) => insert());
  const inTransaction = (insert: () => void) => {
    db.pragma('synchronous = NORMAL');
    try {
      unsynced.immediate(insert);
    } finally {
      db.pragma('synchronous = FULL');
    }
  };
  const insertIdentities = rowsInserter(db, 'identities');
  const insertTerms = rowsInserter(db, 'terms');
  yield* insertRuns(rows.ids, byIdentityKey, (r) => inTransaction(() => insertIdentities(r)));
  yield* insertRuns(rows.terms, byTermKey, (r) => inTransaction(() => insertTerms(r)));
  const setIndexed = db.prepare('UPDATE indexed SET size = ? WHERE id = 0');
  inTransaction(() => setIndexed.run(upTo));
}

/**
 * A writer's side of the storage (the writer thread's, or the calling thread's without one): commits batches
 * and, as it does, keeps each committed entry's index rows, so that a merge need not read them back. Rows
 * gathered since the last merge began stay in memory (a few MB per INDEX_MERGE_ENTRIES).
 */
export function storageWriter(db: Database.Database): {
  commit(batch: WireBatch): void;
  mergeSteps(upTo: number): Generator<void, void, void>;
} {
  const write = batchWriter(db);
  let gathered: GatheredRows | undefined;
  return {
    commit(batch) {
      write(batch);
      if (batch.entries.length === 0) return;
      const first = batch.entries[0].index;
      // Gathering starts over at any gap (the first commit after a start, or after a failed commit).
      if (gathered?.end !== first) gathered = { ...emptyBuckets(), start: first, end: first };
      for (const e of batch.entries) addRows(gathered, e.index, e.identity, Buffer.from(e.termKeys));
      gathered.end = first + batch.entries.length;
    },
    mergeSteps(upTo) {
      const taken = gathered;
      gathered = taken && upTo >= taken.start ? splitGathered(taken, upTo) : undefined;
      return indexMergeSteps(db, upTo, taken);
    },
  };
}

/**
 * Moves the rows of entries at or above `at` out of `g` (which then ends at `at`) into new gathered rows that
 * start at `at`. Each bucket holds its rows in commit order, so they are the tail of each bucket.
 */
function splitGathered(g: GatheredRows, at: number): GatheredRows {
  const rest: GatheredRows = { ...emptyBuckets(), start: at, end: Math.max(at, g.end) };
  const moveTail = <K>(from: KeyRow<K>[][], to: KeyRow<K>[][]) => {
    from.forEach((bucket, b) => {
      let n = bucket.length;
      while (n > 0 && bucket[n - 1].idx >= at) n--;
      if (n < bucket.length) to[b] = bucket.splice(n);
    });
  };
  moveTail(g.ids, rest.ids);
  moveTail(g.terms, rest.terms);
  g.end = Math.min(g.end, at);
  return rest;
}

/** Rows per multi-row INSERT: one statement call per 256 rows costs far less than 256 calls. */
const ROWS_PER_INSERT = 256;

/** Inserts (k, idx) rows into an index table, ROWS_PER_INSERT per statement, ignoring rows already there. */
function rowsInserter<K>(db: Database.Database, table: 'identities' | 'terms'): (rows: KeyRow<K>[]) => void {
  const sql = (n: number) =>
    `INSERT OR IGNORE INTO ${table} (k, idx) VALUES ${Array.from({ length: n }, () => '(?, ?)').join(', ')}`;
  const many = db.prepare(sql(ROWS_PER_INSERT));
  const one = db.prepare(sql(1));
  return (rows) => {
    let at = 0;
    for (; at + ROWS_PER_INSERT <= rows.length; at += ROWS_PER_INSERT) {
      const params: unknown[] = [];
      for (let i = at; i < at + ROWS_PER_INSERT; i++) params.push(rows[i].k, rows[i].idx);
      many.run(params);
    }
    for (; at < rows.length; at++) one.run(rows[at].k, rows[at].idx);
  };
}

/** Inserts the buckets' rows a run of consecutive buckets (about MERGE_CHUNK_KEYS rows) at a time, sorted. */
function* insertRuns<K>(
  buckets: KeyRow<K>[][],
  order: (a: KeyRow<K>, b: KeyRow<K>) => number,
  insert: (rows: KeyRow<K>[]) => void,
): Generator<void, void, void> {
  let run: KeyRow<K>[] = [];
  for (let b = 0; b < buckets.length; b++) {
    for (const r of buckets[b]) run.push(r);
    buckets[b] = [];
    if (run.length >= MERGE_CHUNK_KEYS || (b === buckets.length - 1 && run.length > 0)) {
      insert(run.sort(order));
      run = [];
      yield;
    }
  }
}

/** Runs merge steps one per turn of the event loop (so that commits and reads go on between them). */
export function runSteps(
  steps: Iterator<void, void, void>,
  done: (err?: Error) => void,
  aborted = () => false,
): void {
  const next = () => {
    if (aborted()) return done(new Error('index merge stopped: the storage is closing'));
    try {
      if (steps.next().done) return done();
    } catch (err) {
      return done(err as Error);
    }
    setImmediate(next);
  };
  setImmediate(next);
}

export interface SqliteStorageOptions {
  /** Commit batches on a writer thread (default) or on the calling thread. */
  writerThread?: boolean;
  /** Entries held in the in-memory index before a merge into the index tables (INDEX_MERGE_ENTRIES). */
  indexMergeEntries?: number;
}

/** The commit and merge side of the storage: a writer thread, or the calling thread's own connection. */
interface Writer {
  commit(batch: WireBatch): Promise<void>;
  mergeIndex(upTo: number): Promise<void>;
  close(): Promise<void>;
}

function inlineWriter(db: Database.Database): Writer {
  const writer = storageWriter(db);
  let closing = false;
  return {
    commit: async (batch) => writer.commit(batch),
    mergeIndex: (upTo) =>
      new Promise((resolve, reject) =>
        runSteps(
          writer.mergeSteps(upTo),
          (err) => (err ? reject(err) : resolve()),
          () => closing,
        ),
      ),
    close: async () => {
      closing = true;
    },
  };
}

export function openSqliteStorage(
  dir: string,
  file = 'log.db',
  { writerThread = true, indexMergeEntries = INDEX_MERGE_ENTRIES }: SqliteStorageOptions = {},
): LogStorage {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  const db = openDatabase(path);

  const q = {
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    initMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
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

  const writer: Writer = writerThread ? new WriterThread(path) : inlineWriter(db);
  const pending = loadPendingIndex(db);
  const merged = loadKeyFilter(db);
  let merging = false;
  let closed = false;
  /** After a failed merge, the next one waits a little (each one reads all the entries it merges again). */
  let retryAt = 0;

  /** Merges the in-memory index into the tables once it holds enough entries (one merge at a time). */
  const maybeMerge = () => {
    if (merging || closed || pending.size < indexMergeEntries || Date.now() < retryAt) return;
    merging = true;
    const upTo = pending.start + pending.size;
    writer.mergeIndex(upTo).then(
      () => {
        merging = false;
        // In the filter before they leave memory, so that no moment has an identity in neither.
        pending.dropBelow(upTo, merged.add);
        maybeMerge();
      },
      // Kept in memory and tried again after a later commit; a disk that fails merges fails commits too.
      () => {
        merging = false;
        retryAt = Date.now() + MERGE_RETRY_MS;
      },
    );
  };
  maybeMerge();

  const toEntry = (r: EntryRow): StoredEntry => ({
    index: r.idx,
    timestamp: r.ts,
    data: r.data,
    identity: r.identity,
  });

  return {
    async initMeta(key, value) {
      q.initMeta.run(key, value);
      return (q.getMeta.get(key) as { value: string }).value;
    },
    async head(): Promise<TreeHead | undefined> {
      const r = q.head.get();
      return r && { size: r.size, root: r.root, timestamp: r.ts, checkpoint: r.checkpoint };
    },
    async commit(batch) {
      // Each entry's term keys, made and grouped once: the row stores them, and memory holds them until a merge.
      const keys = new Map<number, Buffer[]>();
      for (const t of batch.terms) {
        const list = keys.get(t.index);
        if (list) list.push(termKey(t.term));
        else keys.set(t.index, [termKey(t.term)]);
      }
      const entries = batch.entries.map((e) => ({ ...e, termKeys: Buffer.concat(keys.get(e.index) ?? []) }));
      await writer.commit({ entries, tiles: batch.tiles, head: batch.head });
      // Committed: findable from now on, through memory until the next merge.
      for (const e of batch.entries) {
        const { hi, lo } = identityKey(e.identity);
        pending.add(e.index, e.identity, keys.get(e.index) ?? [], hi, lo);
      }
      maybeMerge();
    },
    async readTiles(keys: TileKey[]) {
      return keys.map((k) => q.getTile.get(k.level, k.index)?.data);
    },
    async readEntries(start, end) {
      return q.entries.all(start, end).map(toEntry);
    },
    async findIdentities(identities) {
      return identities.map((identity) => {
        const held = pending.identity(identity);
        if (held !== undefined) return held;
        const key = identityKey(identity);
        if (!merged.mightHave(key.hi, key.lo)) return undefined;
        return q.findIdentity.all(key.k).find((r) => r.identity.equals(identity))?.idx;
      });
    },
    async findTerm(term, limit) {
      const k = termKey(term);
      const stored = q.findTerm.all(k, limit).map((r) => r.idx);
      const held = pending.term(k);
      if (held.length === 0) return stored;
      // While a merge runs an entry can be in both; the union, ascending, first `limit`.
      return [...new Set([...stored, ...held])].sort((a, b) => a - b).slice(0, limit);
    },
    async close() {
      closed = true;
      await writer.close();
      if (db.open) db.close();
    },
  };
}

/**
 * The filter over the identities in the index tables, built at open from their keys (about 0.3 s a million; it
 * takes ~1.5 MB a million and grows as merges add to it).
 */
function loadKeyFilter(db: Database.Database): KeyFilter {
  const keys = db.prepare<[], bigint>('SELECT k FROM identities').pluck().safeIntegers(true);
  const count = db.prepare<[], number>('SELECT size FROM indexed WHERE id = 0').pluck().get() ?? 0;
  const filter = keyFilter(Math.max(1 << 20, 2 * count));
  for (const k of keys.iterate()) {
    const [hi, lo] = keyHalves(k);
    filter.add(hi, lo);
  }
  return filter;
}

/** The in-memory index at open: every committed entry not yet merged into the index tables. */
function loadPendingIndex(db: Database.Database): PendingIndex {
  const from = db.prepare<[], { size: number }>('SELECT size FROM indexed WHERE id = 0').get()?.size ?? 0;
  const pending = pendingIndex(from);
  const rows = db
    .prepare<[number], { idx: number; identity: Buffer; terms: Buffer | null }>(
      'SELECT idx, identity, terms FROM entries WHERE idx >= ? ORDER BY idx',
    )
    .iterate(from);
  for (const r of rows) {
    const { hi, lo } = identityKey(r.identity);
    pending.add(r.idx, r.identity, splitKeys(r.terms), hi, lo);
  }
  return pending;
}

/** Messages to and from sqlite-writer.ts. */
/** A commit carries the batch as encodeBatch's buffer (transferred, not cloned). */
/** What the writer thread is asked (workers/' calls add the id). */
export type WriterRequest =
  | { type: 'commit'; batch: ArrayBuffer }
  | { type: 'merge'; upTo: number }
  | { type: 'close' };

/**
 * The main thread's side of the writer thread. One request at a time is typical (the engine awaits each commit),
 * but any number may queue. The worker is referenced (keeps the process alive) only while it owes a reply.
 */
class WriterThread implements Writer {
  readonly #path: string;
  #worker: { thread: Worker; calls: Calls } | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  #start(): { thread: Worker; calls: Calls } {
    const w = startWorker(new URL('./sqlite-writer.js', import.meta.url), { path: this.#path });
    // Ref'd only while it owes answers: an idle writer does not keep the process alive.
    const calls = callsOver((m, transfer) => w.postMessage(m, transfer), {
      busy: () => w.ref(),
      idle: () => w.unref(),
      error: (message) => new Error(`log storage commit failed: ${message}`),
    });
    w.on('message', (m) => calls.settle(m));
    const fail = (err: Error) => {
      // The writer died (it should not): what it owed is not known to be committed, so it fails; the next
      // request starts a new writer.
      if (this.#worker?.thread === w) this.#worker = undefined;
      calls.failAll(err);
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`log storage writer exited with code ${code}`)));
    w.unref();
    return { thread: w, calls };
  }

  async #request(req: WriterRequest): Promise<void> {
    this.#worker ??= this.#start();
    // The batch's buffer is moved, not copied (batch-wire.ts).
    await this.#worker.calls.call(req, req.type === 'commit' ? [req.batch] : []);
  }

  commit(batch: WireBatch): Promise<void> {
    return this.#request({ type: 'commit', batch: encodeBatch(batch) });
  }

  mergeIndex(upTo: number): Promise<void> {
    return this.#request({ type: 'merge', upTo });
  }

  async close(): Promise<void> {
    const w = this.#worker;
    if (!w) return;
    await this.#request({ type: 'close' });
    this.#worker = undefined;
    await w.thread.terminate();
  }
}

/** The log storage as server/ hands it to the engines: SQLite in `dir`, with the defaults. */
export const openLogStorage = (dir: string): LogStorage => openSqliteStorage(dir);

/** This module's URL, for a thread that opens the storage itself (the CT tree's: see log/storage.ts). */
export const SQLITE_LOG_STORAGE_MODULE = workerModule(new URL('./sqlite.js', import.meta.url)).href;
