// The SQLite backend's lookup index kept behind the log: entries are findable by identity and by term as soon as
// their batch is committed (from memory), stay findable while and after they are merged into the index tables, on
// the writer thread and on the calling thread, across a restart, after a merge cut short by a crash, and in a
// database written before the index was deferred.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { generateKey, localSigner } from '../../src/crypto/index.js';
import { type MerkleLog, openMerkleLog, rekorNoteSigner } from '../../src/log/index.js';
import { openSqliteStorage } from '../../src/storage/sqlite/index.js';
import { indexMergeSteps } from '../../src/storage/sqlite/log/sqlite.js';

const signer = localSigner(generateKey('ecdsa-p256'));

function open(
  dir: string,
  indexMergeEntries: number,
  writerThread = true,
  batchMaxSize?: number,
): Promise<MerkleLog> {
  return openMerkleLog({
    storage: openSqliteStorage(dir, 'log.db', { writerThread, indexMergeEntries }),
    origin: 'test.example - 7',
    signers: [rekorNoteSigner(signer, 'test.example')],
    batchMaxSize,
  });
}

const identity = (i: number) => Buffer.from(`identity ${i}`);
const terms = (i: number) => ['shared', `own:${i}`, `parity:${i % 2}`];

/** Appends entries from..to-1 in bursts, so that they span several batches. */
async function append(log: MerkleLog, from: number, to: number): Promise<void> {
  for (let at = from; at < to; at += 17) {
    const burst = [];
    for (let i = at; i < Math.min(to, at + 17); i++) {
      burst.push(log.append({ leaf: Buffer.from(`leaf ${i}`), identity: identity(i), terms: terms(i) }));
    }
    const results = await Promise.all(burst);
    for (const [k, r] of results.entries()) expect(r).toMatchObject({ index: at + k, duplicate: false });
  }
}

/** Every entry below `size` is found by identity and under each of its terms, exactly once. */
async function expectFindable(log: MerkleLog, size: number): Promise<void> {
  for (let i = 0; i < size; i++) expect(await log.findByIdentity(identity(i))).toBe(i);
  expect(await log.findByIdentity(Buffer.from('never appended'))).toBeUndefined();
  const all = Array.from({ length: size }, (_, i) => i);
  expect(await log.findByTerm('shared', 10_000)).toEqual(all);
  expect(await log.findByTerm('shared', 7)).toEqual(all.slice(0, 7));
  expect(await log.findByTerm('parity:1', 10_000)).toEqual(all.filter((i) => i % 2 === 1));
  for (const i of [0, Math.floor(size / 2), size - 1])
    expect(await log.findByTerm(`own:${i}`, 10)).toEqual([i]);
  expect(await log.findByTerm('own:-1', 10)).toEqual([]);
}

/** Rows in the index tables and the size they cover, read on a connection of our own. */
function indexTables(dir: string): { indexed: number; identities: number; terms: number } {
  const db = new Database(join(dir, 'log.db'), { readonly: true });
  try {
    const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      indexed: one('SELECT size AS n FROM indexed'),
      identities: one('SELECT count(*) AS n FROM identities'),
      terms: one('SELECT count(*) AS n FROM terms'),
    };
  } finally {
    db.close();
  }
}

async function until(check: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('deferred lookup index (SQLite)', () => {
  for (const writerThread of [true, false]) {
    it(`finds entries before, during and after merges (${writerThread ? 'writer thread' : 'calling thread'})`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sigil-index-'));
      const log = await open(dir, 100, writerThread);
      await append(log, 0, 60);
      // Fewer than a merge's worth: all in memory, nothing in the tables yet.
      expect(indexTables(dir)).toEqual({ indexed: 0, identities: 0, terms: 0 });
      await expectFindable(log, 60);
      await append(log, 60, 250);
      await until(() => indexTables(dir).indexed >= 200);
      await expectFindable(log, 250);
      const tables = indexTables(dir);
      expect(tables.identities).toBe(tables.indexed);
      expect(tables.terms).toBe(3 * tables.indexed);
      // A duplicate of a merged entry and of one still in memory.
      expect(await log.append({ leaf: Buffer.from('again'), identity: identity(3) })).toMatchObject({
        index: 3,
        duplicate: true,
      });
      expect(await log.append({ leaf: Buffer.from('again'), identity: identity(249) })).toMatchObject({
        index: 249,
        duplicate: true,
      });
      await log.close();

      // After a restart the entries not merged yet are loaded back into memory.
      const again = await open(dir, 100, writerThread);
      await expectFindable(again, 250);
      await append(again, 250, 320);
      await expectFindable(again, 320);
      await again.close();
    });
  }

  for (const writerThread of [true, false]) {
    it(`merges every row while later batches commit around the merges (${writerThread ? 'writer thread' : 'calling thread'})`, async () => {
      // Small batches all in flight at once: commits queued behind a merge request belong to the next merge, and
      // the writer's kept rows must carry them over (a lost row shows as a missing index row below).
      const dir = await mkdtemp(join(tmpdir(), 'sigil-index-'));
      const log = await open(dir, 50, writerThread, 8);
      const all = [];
      for (let i = 0; i < 700; i++) {
        all.push(log.append({ leaf: Buffer.from(`leaf ${i}`), identity: identity(i), terms: terms(i) }));
      }
      await Promise.all(all);
      await until(() => indexTables(dir).indexed >= 650);
      const tables = indexTables(dir);
      expect(tables.identities).toBe(tables.indexed);
      expect(tables.terms).toBe(3 * tables.indexed);
      await log.close();
      // Reopened with merges off, lookups below the indexed size can only come from the tables.
      const reopened = await open(dir, 1_000_000, writerThread);
      await expectFindable(reopened, 700);
      await reopened.close();
    });
  }

  it('finishes a merge that a crash cut short, without duplicate rows', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-index-'));
    const log = await open(dir, 1_000_000);
    await append(log, 0, 150);
    await log.close();
    // Half of a merge's chunks, as if the process died in the middle: the indexed size is not recorded.
    const db = new Database(join(dir, 'log.db'));
    // Steps: read the 150 entries' keys, insert the identities, insert the terms, record the size.
    const steps = indexMergeSteps(db, 150);
    for (let i = 0; i < 3; i++) expect(steps.next().done).toBe(false);
    db.close();
    const partial = indexTables(dir);
    expect(partial.indexed).toBe(0);
    expect(partial.identities + partial.terms).toBeGreaterThan(0);

    const reopened = await open(dir, 1_000_000);
    await expectFindable(reopened, 150);
    await reopened.close();
    const merging = await open(dir, 100);
    await until(() => indexTables(dir).indexed === 150);
    expect(indexTables(dir)).toEqual({ indexed: 150, identities: 150, terms: 450 });
    await expectFindable(merging, 150);
    await merging.close();
  });

  it('opens a database from before the deferred index: its entries count as indexed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-index-'));
    const log = await open(dir, 1);
    await append(log, 0, 40);
    await until(() => indexTables(dir).indexed === 40);
    await log.close();
    // The old schema: no term keys with the entries and no indexed size; the index tables hold every entry.
    const db = new Database(join(dir, 'log.db'));
    db.exec('ALTER TABLE entries DROP COLUMN terms; DROP TABLE indexed');
    db.close();

    const old = await open(dir, 1_000_000);
    expect(indexTables(dir).indexed).toBe(40);
    await expectFindable(old, 40);
    await append(old, 40, 90);
    await expectFindable(old, 90);
    await old.close();
  });
});
