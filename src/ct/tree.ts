// The CT log's Merkle tree (RFC 6962 §2, §3.5), on the generic Merkle log engine (src/log). Entries become
// durable in the CT entry queue (store.ts) before their SCT is released; this merger then appends them, in queue
// order, to the engine, which sequences them in batches well within the maximum merge delay. Queue index i is
// tree index i: the merger is the engine's only writer and appends in order, and each append's dedup identity
// is its queue index, so re-appending after a crash is idempotent. Signed tree heads are RFC 6962 §3.5
// TreeHeadSignatures made with the CT key.
import { join } from 'node:path';
import type { Signer } from '../crypto/index.js';
import { type MerkleLog, openMerkleLog, rekorNoteSigner } from '../log/index.js';
import { leafHash } from '../merkle/index.js';
import type { CtEntryStore } from './store.js';

/** The promise RFC 6962 §3 makes: an SCT'd entry is in the tree within this long. */
export const MAX_MERGE_DELAY_SECONDS = 60;
const CHECKPOINT_NAME = 'sigil-ct';
const MERGE_RETRY_MS = 1000;

export interface SignedTreeHead {
  tree_size: number;
  timestamp: number;
  sha256_root_hash: string;
  tree_head_signature: string;
}

/** RFC 6962 §3.5 TreeHeadSignature: version v1, signature_type tree_hash, timestamp, tree_size, root hash. */
export function treeHeadSignedData(timestamp: number, size: number, root: Buffer): Buffer {
  const out = Buffer.alloc(2 + 8 + 8 + 32);
  out[0] = 0;
  out[1] = 1;
  out.writeBigUInt64BE(BigInt(timestamp), 2);
  out.writeBigUInt64BE(BigInt(size), 10);
  root.copy(out, 18);
  return out;
}

function queueIdentity(index: number): Buffer {
  return Buffer.from(`ct-queue:${index}`);
}

export class CtTree {
  private merged: number;
  private merging: Promise<void> | undefined;
  private sthCache: { size: number; sth: SignedTreeHead } | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** The last merge failure, for close() to report. */
  private lastError: unknown;

  private constructor(
    private readonly engine: MerkleLog,
    private readonly queue: CtEntryStore,
    private readonly signer: Signer,
    /** Reads the leaf_input of a queued record. */
    private readonly leafOf: (record: Buffer) => Buffer,
  ) {
    this.merged = engine.head().size;
  }

  static async open(
    dir: string,
    signer: Signer,
    queue: CtEntryStore,
    leafOf: (record: Buffer) => Buffer,
  ): Promise<CtTree> {
    const engine = await openMerkleLog({
      dir: join(dir, 'tree'),
      origin: CHECKPOINT_NAME,
      signers: [rekorNoteSigner(signer, CHECKPOINT_NAME)],
    });
    const tree = new CtTree(engine, queue, signer, leafOf);
    if (tree.merged > queue.size())
      throw new Error(`CT tree has ${tree.merged} entries but the entry queue only ${queue.size()}`);
    // Entries queued before a crash but not yet merged.
    tree.catchUp();
    return tree;
  }

  /**
   * Appends every queued entry the tree does not hold yet. Cheap to call after each durable append; never
   * rejects: a failed merge (storage trouble) is retried a second later, the entries being safe in the queue.
   */
  catchUp(): Promise<void> {
    this.merging ??= this.mergeLoop().then(
      () => {
        this.merging = undefined;
        if (this.merged < this.queue.size()) void this.catchUp();
      },
      (err: unknown) => {
        this.merging = undefined;
        this.lastError = err;
        this.retry ??= setTimeout(() => {
          this.retry = undefined;
          void this.catchUp();
        }, MERGE_RETRY_MS);
      },
    );
    return this.merging;
  }

  private async mergeLoop(): Promise<void> {
    while (this.merged < this.queue.size()) {
      const end = this.queue.size();
      const appends: Promise<unknown>[] = [];
      for (let i = this.merged; i < end; i++) {
        const leaf = this.leafOf(this.queue.get(i));
        appends.push(
          this.engine
            .append({ leaf, identity: queueIdentity(i), terms: [leafHash(leaf).toString('base64')] })
            .then((r) => {
              if (r.index !== i)
                throw new Error(`CT tree out of step with its queue: entry ${i} got index ${r.index}`);
            }),
        );
      }
      await Promise.all(appends);
      this.merged = end;
    }
  }

  size(): number {
    return this.engine.head().size;
  }

  /** RFC 6962 §4.3 get-sth. */
  async sth(): Promise<SignedTreeHead> {
    const head = this.engine.head();
    if (this.sthCache?.size === head.size && head.size > 0) return this.sthCache.sth;
    const sig = await this.signer.sign(treeHeadSignedData(head.timestamp, head.size, head.root));
    const ds = Buffer.concat([Buffer.from([4, 3]), Buffer.from([sig.length >> 8, sig.length & 0xff]), sig]);
    const sth = {
      tree_size: head.size,
      timestamp: head.timestamp,
      sha256_root_hash: head.root.toString('base64'),
      tree_head_signature: ds.toString('base64'),
    };
    this.sthCache = { size: head.size, sth };
    return sth;
  }

  /** RFC 6962 §4.4 get-sth-consistency. */
  consistency(first: number, second: number): Promise<Buffer[]> {
    return this.engine.consistencyProof(first, second);
  }

  /** RFC 6962 §4.5 get-proof-by-hash: undefined when no entry with that leaf hash is in the tree of `size`. */
  async proofByHash(hash: Buffer, size: number): Promise<{ index: number; path: Buffer[] } | undefined> {
    const [index] = await this.engine.findByTerm(hash.toString('base64'), 1);
    if (index === undefined || index >= size) return undefined;
    return { index, path: await this.engine.inclusionProof(index, size) };
  }

  async close(): Promise<void> {
    clearTimeout(this.retry);
    await this.catchUp();
    await this.engine.close();
    // Unmerged entries are still durable in the queue and merged on the next start.
    if (this.merged < this.queue.size() && this.lastError) throw this.lastError;
  }
}
