// The generic Merkle log engine on real storage — SQLite, and PostgreSQL (a throwaway cluster, test/pg/cluster.ts)
// for every test that is not about SQLite's writer thread: batching, signed checkpoints, tiles, dedup, restart,
// and proofs at many tree sizes checked against the naive reference in test/merkle/reference.ts.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, keyId, localSigner, verifySignature } from '../../src/crypto/index.js';
import { parseCheckpoint, parseSignedNote } from '../../src/formats/index.js';
import { type LogStorage, type MerkleLog, openMerkleLog, rekorNoteSigner } from '../../src/log/index.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/merkle/index.js';
import { postgresLogStorage } from '../../src/storage/postgres/index.js';
import { openSqliteStorage } from '../../src/storage/sqlite/index.js';
import {
  makeLeaves,
  refLeaf,
  refPath,
  refProof,
  refRoot,
  refVerifyConsistency,
  refVerifyInclusion,
} from '../merkle/reference.js';
import { type PostgresCluster, startPostgres } from '../pg/cluster.js';
import { describePostgres } from '../pg/suite.js';

/** The backend the shared tests run on (set by each suite before its tests run). */
let backend: { storage: (dir: string) => LogStorage } = { storage: (dir) => openSqliteStorage(dir) };

const signer = localSigner(generateKey('ecdsa-p256'));

async function open(
  dir: string,
  extra: Partial<Parameters<typeof openMerkleLog>[0]> = {},
): Promise<MerkleLog> {
  return openMerkleLog({
    storage: extra.storage ?? backend.storage(dir),
    origin: 'test.example - 42',
    signers: [rekorNoteSigner(signer, 'test.example')],
    batchMaxAgeMs: 1,
    ...extra,
  });
}

function checkNote(checkpoint: string, size: number, root: Buffer): void {
  const note = parseSignedNote(checkpoint);
  const cp = parseCheckpoint(note.text);
  expect(cp.origin).toBe('test.example - 42');
  expect(cp.size).toBe(size);
  expect(Buffer.from(cp.rootHash).equals(root)).toBe(true);
  expect(note.signatures[0].name).toBe('test.example');
  expect(Buffer.from(note.signatures[0].keyId)).toEqual(keyId(signer.publicKey).subarray(0, 4));
  expect(verifySignature(signer.publicKey, Buffer.from(note.text), note.signatures[0].signature)).toBe(true);
}

/** The engine's tests that hold on any storage backend. */
function engineTests(): void {
  it('sequences appends in batches and serves proofs that match the reference at every size up to 1,000', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-log-'));
    const log = await open(dir, { batchMaxSize: 37 });
    expect(log.head().size).toBe(0);
    checkNote(log.head().checkpoint, 0, refRoot([]));
    const leaves = makeLeaves(1000);
    // Uneven bursts so batches cut across tile boundaries in different places.
    const results = [];
    let i = 0;
    for (const burst of [1, 2, 5, 100, 300, 255, 1, 1, 335]) {
      results.push(...(await Promise.all(leaves.slice(i, i + burst).map((leaf) => log.append({ leaf })))));
      i += burst;
    }
    expect(results.map((r) => r.index)).toEqual([...Array(1000).keys()]);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    for (const r of results) {
      expect(r.leafHash.equals(refLeaf(leaves[r.index]))).toBe(true);
      expect(r.head.size).toBeGreaterThan(r.index);
      // The head a result carries is one the reference agrees with, and the proof against it verifies.
      expect(r.head.root.equals(refRoot(leaves, 0, r.head.size))).toBe(true);
    }
    const head = log.head();
    expect(head.size).toBe(1000);
    checkNote(head.checkpoint, 1000, refRoot(leaves));

    for (let n = 1; n <= 1000; n += n < 70 ? 1 : 37) {
      const root = refRoot(leaves, 0, n);
      expect((await log.rootAt(n)).equals(root)).toBe(true);
      for (const m of new Set([0, n - 1, Math.floor(n / 3), n === 1 ? 0 : n - 2])) {
        const proof = await log.inclusionProof(m, n);
        expect(proof).toEqual(refPath(m, n, leaves));
        expect(refVerifyInclusion(m, n, refLeaf(leaves[m]), proof, root)).toBe(true);
        expect(verifyInclusion(m, n, refLeaf(leaves[m]), proof, root)).toBe(true);
      }
      for (const m of new Set([0, 1, Math.floor(n / 2), n - 1, n])) {
        if (m > n) continue;
        const proof = await log.consistencyProof(m, n);
        expect(proof).toEqual(refProof(m, n, leaves));
        const oldRoot = refRoot(leaves, 0, m);
        expect(refVerifyConsistency(m, n, oldRoot, root, proof)).toBe(true);
        expect(verifyConsistency(m, n, oldRoot, root, proof)).toBe(true);
      }
    }
    await expect(log.inclusionProof(5, 1001)).rejects.toThrow(RangeError);
    await expect(log.inclusionProof(1000, 1000)).rejects.toThrow(RangeError);
    await log.close();
  });

  it('serves tiles and entry bundles, deduplicates, and survives a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-log-'));
    let log = await open(dir);
    const leaves = makeLeaves(600, 'tile');
    await Promise.all(leaves.map((leaf) => log.append({ leaf, terms: [`t${leaf.length % 3}`] })));
    const tile0 = await log.tile(0, 0);
    expect(tile0).toEqual(Buffer.concat(leaves.slice(0, 256).map(refLeaf)));
    expect(await log.tile(0, 2)).toBeUndefined(); // partial: only .p/88 exists
    expect(await log.tile(0, 2, 88)).toEqual(Buffer.concat(leaves.slice(512, 600).map(refLeaf)));
    expect(await log.tile(0, 2, 10)).toEqual(Buffer.concat(leaves.slice(512, 522).map(refLeaf)));
    expect(await log.tile(0, 2, 89)).toBeUndefined();
    expect(await log.tile(1, 0, 2)).toEqual(
      Buffer.concat([refRoot(leaves, 0, 256), refRoot(leaves, 256, 512)]),
    );
    expect(await log.tile(1, 0, 3)).toBeUndefined();
    const bundle = await log.entryBundle(2, 3);
    expect(bundle).toEqual(
      Buffer.concat(leaves.slice(512, 515).flatMap((l) => [Buffer.from([0, l.length]), l])),
    );

    const again = await log.append({ leaf: leaves[7] });
    expect(again).toMatchObject({ index: 7, duplicate: true });
    const [a, b] = await Promise.all([
      log.append({ leaf: Buffer.from('twin') }),
      log.append({ leaf: Buffer.from('twin') }),
    ]);
    expect(a.index).toBe(600);
    expect(b).toMatchObject({ index: 600, duplicate: true });
    expect(await log.findByIdentity(leafHash(leaves[9]))).toBe(9);
    expect(await log.findByIdentity(leafHash(Buffer.from('absent')))).toBeUndefined();
    expect((await log.findByTerm('t0')).length).toBeGreaterThan(0);
    await expect(log.append({ leaf: Buffer.alloc(70_000) })).rejects.toThrow(/limit is 65535/);

    const before = log.head();
    await log.close();
    log = await open(dir);
    expect(log.head()).toEqual(before);
    const next = await log.append({ leaf: Buffer.from('after restart') });
    expect(next.index).toBe(601);
    const all = [...leaves, Buffer.from('twin'), Buffer.from('after restart')];
    expect(log.head().root.equals(refRoot(all))).toBe(true);
    expect(await log.consistencyProof(before.size)).toEqual(refProof(before.size, 602, all));
    expect((await log.entry(601))?.data.toString()).toBe('after restart');
    await log.close();
  });

  it('builds leaves at sequencing time when asked (static-ct-api style) and keeps timestamps monotonic', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-log-'));
    let clock = 5_000;
    const log = await open(dir, { now: () => clock });
    const r1 = await log.append({
      identity: Buffer.from('cert-1'),
      leaf: ({ index, timestamp }) => Buffer.from(`leaf ${index} at ${timestamp}`),
    });
    clock = 4_000; // the wall clock stepping back must not make timestamps go back
    const r2 = await log.append({
      identity: Buffer.from('cert-2'),
      leaf: ({ index, timestamp }) => Buffer.from(`${index}@${timestamp}`),
    });
    expect(r1).toMatchObject({ index: 0, timestamp: 5_000 });
    expect(r2).toMatchObject({ index: 1, timestamp: 5_000 });
    expect((await log.entry(0))?.data.toString()).toBe('leaf 0 at 5000');
    const dup = await log.append({ identity: Buffer.from('cert-1'), leaf: () => Buffer.from('other') });
    expect(dup).toMatchObject({ index: 0, duplicate: true });
    await expect(log.append({ leaf: () => Buffer.from('x') })).rejects.toThrow(/identity/);
    await log.close();
  });

  it('handles tens of thousands of entries across tile levels', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-log-'));
    const log = await open(dir);
    const leaves = makeLeaves(70_000, 'many');
    for (let i = 0; i < leaves.length; i += 5000) {
      await Promise.all(leaves.slice(i, i + 5000).map((leaf) => log.append({ leaf })));
    }
    expect(log.head().root.equals(refRoot(leaves))).toBe(true);
    expect((await log.tile(2, 0, 1))?.equals(refRoot(leaves, 0, 65_536))).toBe(true);
    for (const [m, n] of [
      [65_535, 70_000],
      [0, 65_537],
      [12_345, 65_536],
    ]) {
      expect(await log.inclusionProof(m, n)).toEqual(refPath(m, n, leaves));
      expect(await log.consistencyProof(m + 1, n)).toEqual(refProof(m + 1, n, leaves));
    }
    await log.close();
  });
}

describe('Merkle log engine on SQLite', () => {
  engineTests();

  it('commits the same way on the writer thread and on the calling thread', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-log-'));
    const leaves = makeLeaves(600);
    const inline = await open(dir, { storage: openSqliteStorage(dir, 'log.db', { writerThread: false }) });
    await Promise.all(leaves.slice(0, 300).map((leaf) => inline.append({ leaf })));
    await inline.close();
    const threaded = await open(dir, { storage: openSqliteStorage(dir, 'log.db', { writerThread: true }) });
    expect(threaded.head().size).toBe(300);
    await Promise.all(leaves.slice(300).map((leaf) => threaded.append({ leaf })));
    expect(threaded.head().root.equals(refRoot(leaves))).toBe(true);
    await threaded.close();
    const again = await open(dir, { storage: openSqliteStorage(dir, 'log.db', { writerThread: false }) });
    expect(again.head().size).toBe(600);
    expect(again.head().root.equals(refRoot(leaves))).toBe(true);
    const proof = await again.inclusionProof(123);
    expect(proof).toEqual(refPath(123, 600, leaves));
    await again.close();
  });
});

describePostgres('Merkle log engine on PostgreSQL', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
    // Each test's temp dir names its own schema in the one database (storage/postgres schemaFor).
    backend = { storage: postgresLogStorage(cluster.url) };
  });
  afterAll(() => {
    backend = { storage: (dir) => openSqliteStorage(dir) };
    cluster?.destroy();
  });
  engineTests();
});
