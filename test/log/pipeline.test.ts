// The engine's commit pipeline: batches are sequenced while earlier ones are still being signed and fsynced.
// Checked on real SQLite storage, wrapped by two test doubles for the disk (named as such): one that makes every
// commit slow (so several batches are in flight at once), and one that fails a chosen commit (a disk error).
// What must hold: answers only once durable, dedup across in-flight batches, and after a failed commit no gap —
// the failed batch and every batch issued after it are refused, the log recovers and goes on from what committed.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKey, localSigner } from '../../src/crypto/index.js';
import { type LogStorage, type MerkleLog, openMerkleLog, rekorNoteSigner } from '../../src/log/index.js';
import { openSqliteStorage } from '../../src/storage/sqlite/index.js';
import { makeLeaves, refPath, refRoot } from '../merkle/reference.js';

const signer = localSigner(generateKey('ecdsa-p256'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Test double for a slow disk: every commit takes `ms` longer, and the number in flight at once is recorded. */
function slowDisk(inner: LogStorage, ms: number): LogStorage & { maxConcurrent: number } {
  let now = 0;
  const s = {
    ...inner,
    maxConcurrent: 0,
    async commit(batch: Parameters<LogStorage['commit']>[0]) {
      now++;
      s.maxConcurrent = Math.max(s.maxConcurrent, now);
      const done = inner.commit(batch); // issued now, in order
      done.catch(() => {}); // awaited below, after the delay
      try {
        await sleep(ms);
        await done;
      } finally {
        now--;
      }
    },
  };
  return s;
}

/** Test double for a disk error: commit number `failAt` (counting from 1, after the log's first head) fails. */
function failingDisk(inner: LogStorage, failAt: number, ms: number): LogStorage & { commits: number } {
  const s = {
    ...inner,
    commits: 0,
    async commit(batch: Parameters<LogStorage['commit']>[0]) {
      const n = s.commits++;
      if (n === failAt) {
        await sleep(ms);
        throw new Error('injected disk error');
      }
      const done = inner.commit(batch);
      done.catch(() => {}); // awaited below, after the delay
      await sleep(ms);
      await done;
    },
  };
  return s;
}

async function open(storage: LogStorage, batchMaxSize = 8): Promise<MerkleLog> {
  return openMerkleLog({
    storage,
    origin: 'test.example - 7',
    signers: [rekorNoteSigner(signer, 'test.example')],
    batchMaxSize,
  });
}

describe('commit pipeline', () => {
  it('keeps several batches in flight and answers each only with a head that contains it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-pipe-'));
    const storage = slowDisk(openSqliteStorage(dir), 15);
    const log = await open(storage);
    const leaves = makeLeaves(200, 'pipe');
    const results = await Promise.all(leaves.map((leaf) => log.append({ leaf })));
    expect(storage.maxConcurrent).toBeGreaterThan(1);
    expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual(leaves.map((_, i) => i));
    for (const r of results) {
      expect(r.head.size).toBeGreaterThan(r.index);
      expect(r.duplicate).toBe(false);
    }
    expect(log.head().root.equals(refRoot(leaves))).toBe(true);
    expect(await log.inclusionProof(150, 200)).toEqual(refPath(150, 200, leaves));
    await log.close();
  });

  it('deduplicates against batches still committing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-pipe-'));
    const log = await open(slowDisk(openSqliteStorage(dir), 20), 4);
    const leaves = makeLeaves(40, 'dup');
    const first = leaves.map((leaf) => log.append({ leaf }));
    await sleep(5); // the first batches are sequenced and committing now
    const again = leaves.map((leaf) => log.append({ leaf }));
    const [a, b] = [await Promise.all(first), await Promise.all(again)];
    expect(log.head().size).toBe(40);
    b.forEach((r, i) => {
      expect(r.duplicate).toBe(true);
      expect(r.index).toBe(a[i].index);
      expect(r.head.size).toBeGreaterThan(r.index);
    });
    await log.close();
  });

  it('after a failed commit refuses the batches issued behind it, leaves no gap and goes on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-pipe-'));
    const storage = failingDisk(openSqliteStorage(dir), 3, 10);
    const errors: unknown[] = [];
    const log = await openMerkleLog({
      storage,
      origin: 'test.example - 7',
      signers: [rekorNoteSigner(signer, 'test.example')],
      batchMaxSize: 5,
      onError: (e) => errors.push(e),
    });
    const leaves = makeLeaves(60, 'fail');
    const settled = await Promise.allSettled(leaves.map((leaf) => log.append({ leaf })));
    const ok = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [{ i, r: s.value }] : []));
    const failed = settled.filter((s) => s.status === 'rejected');
    expect(failed.length).toBeGreaterThan(5); // more than the one failed batch of 5: those behind it too
    expect(errors.length).toBeGreaterThan(0);
    // What was acknowledged is exactly the committed tree, indices 0..n-1 with no gap.
    const size = log.head().size;
    expect(ok.map(({ r }) => r.index).sort((x, y) => x - y)).toEqual([...Array(size).keys()]);
    const committed = ok.sort((x, y) => x.r.index - y.r.index).map(({ i }) => leaves[i]);
    expect(log.head().root.equals(refRoot(committed))).toBe(true);
    // The log goes on: the refused leaves can be appended again and land after the committed ones.
    const retried = await Promise.all(
      settled.flatMap((s, i) => (s.status === 'rejected' ? [log.append({ leaf: leaves[i] })] : [])),
    );
    expect(retried.every((r) => !r.duplicate && r.index >= size)).toBe(true);
    expect(log.head().size).toBe(60);
    await log.close();
    // And it reopens at the same state.
    const reopened = await open(openSqliteStorage(dir));
    expect(reopened.head().size).toBe(60);
    expect(reopened.head().root.equals(log.head().root)).toBe(true);
    await reopened.close();
  });
});
