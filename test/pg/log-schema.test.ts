// The PostgreSQL log tables of schema version 2 (#17, "no drop at 10 M entries"): identities and search terms
// found through one table of 8-byte keys; a version-1 schema (32-byte identity hashes and 16-byte term prefixes in
// two tables) upgraded in place when a log opens it, with every lookup answering as before; `sigil db migrate`'s
// import writing the same keys; a newer schema refused; and a lookup row whose key matches but whose entry has
// another identity is no hit (keys may collide).
import { hash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKey, localSigner } from '../../src/crypto/index.js';
import { type MerkleLog, openMerkleLog, rekorNoteSigner } from '../../src/log/index.js';
import { importLog, postgresLogStorage } from '../../src/storage/postgres/index.js';
import { type PostgresCluster, startPostgres } from './cluster.js';
import { describePostgres } from './suite.js';

const signer = localSigner(generateKey('ecdsa-p256'));
const sha256 = (data: string | Uint8Array) => hash('sha256', data, 'buffer');
/** The version-2 key, computed here independently of the storage: the signed int64 of the first 8 bytes. */
const key2 = (data: string | Uint8Array) => sha256(data).readBigInt64BE(0).toString();

/** Entry `i` of a test log: its own identity, a term of its own and one it shares with every third entry. */
function entry(i: number) {
  return {
    leaf: Buffer.from(`leaf ${i}`),
    identity: Buffer.from(`identity ${i}`),
    terms: [`own:${i}`, `group:${i % 3}`],
  };
}
const COUNT = 12;

/** The log tables of sigil before #17's small keys, as version 1 created them. */
const V1_DDL = (s: string) => `
CREATE SCHEMA ${s};
CREATE TABLE ${s}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE ${s}.head (
  id INTEGER PRIMARY KEY CHECK (id = 0), size BIGINT NOT NULL, root BYTEA NOT NULL, ts BIGINT NOT NULL,
  checkpoint TEXT NOT NULL);
CREATE TABLE ${s}.entries (
  idx BIGINT PRIMARY KEY, ts BIGINT NOT NULL, data BYTEA NOT NULL, identity BYTEA NOT NULL);
CREATE TABLE ${s}.identities (h BYTEA NOT NULL, idx BIGINT NOT NULL, PRIMARY KEY (h, idx));
CREATE TABLE ${s}.terms (k BYTEA NOT NULL, idx BIGINT NOT NULL, PRIMARY KEY (k, idx));
CREATE TABLE ${s}.tiles (
  level INTEGER NOT NULL, idx BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (level, idx));
`;

describePostgres('PostgreSQL log schema version 2: 8-byte lookup keys (#17)', () => {
  let cluster: PostgresCluster;
  let tmp: string;
  let databases = 0;

  beforeAll(async () => {
    cluster = await startPostgres();
    tmp = await mkdtemp(join(tmpdir(), 'sigil-log-schema-'));
  }, 60_000);
  afterAll(() => cluster?.destroy());

  /** A database of its own for a test, with a client on it (ended by the test). */
  async function database(): Promise<{ url: string; sql: pg.Client }> {
    const url = await cluster.createDatabase(`log_schema_${++databases}`);
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    return { url, sql };
  }

  /** The engine on the log whose schema is sigil_<name>. */
  function open(url: string, name: string): Promise<MerkleLog> {
    return openMerkleLog({
      storage: postgresLogStorage(url)(join(tmp, name)),
      origin: 'test.example - 17',
      signers: [rekorNoteSigner(signer, 'test.example')],
      batchMaxAgeMs: 1,
    });
  }

  /** Appends entries 0..COUNT-1, in two batches. */
  async function fill(log: MerkleLog): Promise<void> {
    for (const half of [0, COUNT / 2]) {
      const appended = await Promise.all(
        Array.from({ length: COUNT / 2 }, (_, i) => log.append(entry(half + i))),
      );
      expect(appended.map((a) => a.duplicate)).toEqual(Array(COUNT / 2).fill(false));
    }
  }

  /** Every entry found by its identity and its terms, unknown ones by nothing. */
  async function expectLookups(log: MerkleLog): Promise<void> {
    for (let i = 0; i < COUNT; i++) {
      expect(await log.findByIdentity(entry(i).identity)).toBe(i);
      expect(await log.findByTerm(`own:${i}`)).toEqual([i]);
    }
    const group1 = Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 3 === 1);
    expect(await log.findByTerm('group:1')).toEqual(group1);
    expect(await log.findByTerm('group:1', 2)).toEqual(group1.slice(0, 2));
    expect(await log.findByIdentity(Buffer.from('identity never appended'))).toBeUndefined();
    expect(await log.findByIdentity(Buffer.from('own:3'))).toBeUndefined();
    expect(await log.findByTerm('never indexed')).toEqual([]);
    // A duplicate resolves to the stored entry: the engine asks for a whole batch's identities at once.
    const again = await Promise.all([log.append(entry(4)), log.append(entry(9))]);
    expect(again.map((a) => [a.index, a.duplicate])).toEqual([
      [4, true],
      [9, true],
    ]);
  }

  /** The lookup rows, as decimal keys and indices, sorted: what the 8-byte keys of entries 0..COUNT-1 must be. */
  async function lookupRows(sql: pg.Client, s: string): Promise<string[]> {
    const r = await sql.query<{ k: string; idx: string }>(`SELECT k::text AS k, idx FROM ${s}.lookup`);
    return r.rows.map((row) => `${row.k}/${row.idx}`).sort();
  }
  function expectedRows(): string[] {
    return Array.from({ length: COUNT }, (_, i) => [
      `${key2(entry(i).identity)}/${i}`,
      ...entry(i).terms.map((t) => `${key2(t)}/${i}`),
    ])
      .flat()
      .sort();
  }

  async function tablesOf(sql: pg.Client, s: string): Promise<string[]> {
    const r = await sql.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [s],
    );
    return r.rows.map((row) => row.t);
  }

  async function versionOf(sql: pg.Client, s: string): Promise<string | undefined> {
    const r = await sql.query<{ value: string }>(`SELECT value FROM ${s}.meta WHERE key = 'schema_version'`);
    return r.rows[0]?.value;
  }

  it('finds entries by identity and by term through one table of 8-byte keys', async () => {
    const { url, sql } = await database();
    const log = await open(url, 'fresh');
    await fill(log);
    await expectLookups(log);
    await log.close();
    expect(await tablesOf(sql, 'sigil_fresh')).toEqual(['entries', 'head', 'lookup', 'meta', 'tiles']);
    expect(await versionOf(sql, 'sigil_fresh')).toBe('2');
    // Keys as JavaScript computes them, negative ones too (no precision lost on the way to BIGINT).
    const rows = await lookupRows(sql, 'sigil_fresh');
    expect(rows).toEqual(expectedRows());
    expect(rows.some((r) => r.startsWith('-'))).toBe(true);
    await sql.end();
  });

  it('upgrades a version-1 schema in place when a log opens it; lookups find the same entries', async () => {
    const { url, sql } = await database();
    // Real entries, tiles and head, written by the engine, copied into tables of version 1 with keys as it kept them.
    const source = await open(url, 'source');
    await fill(source);
    const before = source.head();
    await source.close();
    const s = 'sigil_old';
    await sql.query(V1_DDL(s));
    for (const table of ['meta', 'head', 'entries', 'tiles'])
      await sql.query(`INSERT INTO ${s}.${table} SELECT * FROM sigil_source.${table}`);
    await sql.query(`UPDATE ${s}.meta SET value = '1' WHERE key = 'schema_version'`);
    const entries = Array.from({ length: COUNT }, (_, i) => entry(i));
    await sql.query(`INSERT INTO ${s}.identities (h, idx) SELECT * FROM unnest($1::bytea[], $2::bigint[])`, [
      entries.map((e) => sha256(e.identity)),
      entries.map((_, i) => i),
    ]);
    const terms = entries.flatMap((e, i) => e.terms.map((t) => ({ k: sha256(t).subarray(0, 16), i })));
    await sql.query(`INSERT INTO ${s}.terms (k, idx) SELECT * FROM unnest($1::bytea[], $2::bigint[])`, [
      terms.map((t) => t.k),
      terms.map((t) => t.i),
    ]);
    expect(await versionOf(sql, s)).toBe('1');

    // Two frontends opening it together: one upgrades under the lock, the other then finds version 2.
    const racing = [postgresLogStorage(url)(join(tmp, 'old')), postgresLogStorage(url)(join(tmp, 'old'))];
    await Promise.all(racing.map((storage) => storage.head()));
    await Promise.all(racing.map((storage) => storage.close()));
    const log = await open(url, 'old');
    expect(log.head().size).toBe(before.size);
    expect(log.head().root.equals(before.root)).toBe(true);
    expect(await tablesOf(sql, s)).toEqual(['entries', 'head', 'lookup', 'meta', 'tiles']);
    expect(await versionOf(sql, s)).toBe('2');
    // The keys SQL computed from the old ones are those the storage computes for new entries.
    expect(await lookupRows(sql, s)).toEqual(expectedRows());
    const pk = await sql.query(
      `SELECT 1 FROM information_schema.table_constraints
       WHERE table_schema = $1 AND table_name = 'lookup' AND constraint_type = 'PRIMARY KEY'`,
      [s],
    );
    expect(pk.rows).toHaveLength(1);
    await expectLookups(log);
    // The upgraded log goes on: a new entry is found like the old ones.
    const next = await log.append({
      leaf: Buffer.from('after'),
      identity: Buffer.from('after'),
      terms: ['group:1'],
    });
    expect(next.index).toBe(COUNT);
    expect(await log.findByIdentity(Buffer.from('after'))).toBe(COUNT);
    expect((await log.findByTerm('group:1')).at(-1)).toBe(COUNT);
    await log.close();
    await sql.end();
  });

  it('sigil db migrate’s import writes the lookup rows the storage writes, from SQLite’s 16-byte term keys', async () => {
    const { url, sql } = await database();
    const source = await open(url, 'exported');
    await fill(source);
    await source.close();
    // The log as storage/sqlite/export.ts hands it over: each entry with its terms' 16-byte SHA-256 prefixes.
    const rows = async <R extends pg.QueryResultRow>(q: string) => (await sql.query<R>(q)).rows;
    const head = (
      await rows<{ size: string; root: Buffer; ts: string; checkpoint: string }>(
        'SELECT * FROM sigil_exported.head',
      )
    )[0];
    const entries = await rows<{ idx: string; ts: string; data: Buffer; identity: Buffer }>(
      'SELECT * FROM sigil_exported.entries ORDER BY idx',
    );
    const tiles = await rows<{ level: number; idx: string; data: Buffer }>(
      'SELECT * FROM sigil_exported.tiles',
    );
    await importLog(url, join(tmp, 'imported'), {
      meta: await rows<{ key: string; value: string }>(
        "SELECT * FROM sigil_exported.meta WHERE key <> 'schema_version'",
      ),
      head: {
        size: Number(head.size),
        root: head.root,
        timestamp: Number(head.ts),
        checkpoint: head.checkpoint,
      },
      entries: () => [
        entries.map((e) => ({
          entry: { index: Number(e.idx), timestamp: Number(e.ts), data: e.data, identity: e.identity },
          termKeys: entry(Number(e.idx)).terms.map((t) => sha256(t).subarray(0, 16)),
        })),
      ],
      tiles: () => [tiles.map((t) => ({ level: t.level, index: Number(t.idx), data: t.data }))],
    });
    expect(await lookupRows(sql, 'sigil_imported')).toEqual(expectedRows());
    const log = await open(url, 'imported');
    await expectLookups(log);
    await log.close();
    await sql.end();
  });

  it('refuses a schema of a newer version in one line, creating nothing', async () => {
    const { url, sql } = await database();
    await sql.query(`CREATE SCHEMA sigil_newer; CREATE TABLE sigil_newer.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO sigil_newer.meta VALUES ('schema_version', '99')`);
    const refused = await open(url, 'newer').then(
      (log) => log.close().then(() => undefined),
      (err: Error) => err,
    );
    expect(refused?.message).toMatch(
      /^the database's sigil_newer tables are of schema version 99, newer than this sigil's 2: upgrade sigil$/,
    );
    expect(await tablesOf(sql, 'sigil_newer')).toEqual(['meta']);
    expect(await versionOf(sql, 'sigil_newer')).toBe('99');
    await sql.end();
  });

  it('a lookup row with an identity’s key is no hit when its entry has another identity', async () => {
    const { url, sql } = await database();
    const log = await open(url, 'collide');
    await fill(log);
    // What a key collision would look like: the key of an identity never appended, pointing at entry 5.
    const forged = Buffer.from('identity whose key collides');
    await sql.query('INSERT INTO sigil_collide.lookup (k, idx) VALUES ($1::bigint, 5)', [key2(forged)]);
    expect(await log.findByIdentity(forged)).toBeUndefined();
    expect(await log.findByIdentity(entry(5).identity)).toBe(5);
    // So appending it is a new entry, not a duplicate of entry 5.
    const appended = await log.append({ leaf: Buffer.from('forged'), identity: forged });
    expect([appended.index, appended.duplicate]).toEqual([COUNT, false]);
    expect(await log.findByIdentity(forged)).toBe(COUNT);
    await log.close();
    await sql.end();
  });
});
