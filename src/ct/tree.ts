// The CT log's Merkle tree (RFC 6962 §2, §3.5), on the generic Merkle log engine (src/log). Entries become
// durable in the CT entry queue (store.ts) before their SCT is released; this merger then appends them, in queue
// order, to the engine, which sequences them in batches well within the maximum merge delay. Queue index i is
// tree index i: the merger is the engine's only writer and appends in order, and each append's dedup identity
// is its queue index, so re-appending after a crash is idempotent. Signed tree heads are RFC 6962 §3.5
// TreeHeadSignatures made with the CT key.
import type { Signer } from '../crypto/index.js';
import { treeHeadSignedData } from '../formats/index.js';
import type { LogStorageChoice } from '../log/index.js';
import type { CtEntryStore } from './store.js';
import { InlineTree, type TreeBackend } from './tree-backend.js';
import { ThreadTree } from './tree-thread.js';

const MERGE_RETRY_MS = 1000;
/** Leaves handed to the backend per append call. */
const MERGE_CHUNK = 1024;

export interface SignedTreeHead {
  tree_size: number;
  timestamp: number;
  sha256_root_hash: string;
  tree_head_signature: string;
}

export { treeHeadSignedData } from '../formats/index.js';

export class CtTree {
  private merged: number;
  private merging: Promise<void> | undefined;
  private sthCache: { size: number; sth: SignedTreeHead } | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** The last merge failure, for close() to report. */
  private lastError: unknown;

  private constructor(
    private readonly backend: TreeBackend,
    private readonly queue: CtEntryStore,
    private readonly signer: Signer,
    /** Reads the leaf_input of a queued record. */
    private readonly leafOf: (record: Buffer) => Buffer,
  ) {
    this.merged = backend.head().size;
  }

  /**
   * Opens the tree under `<dir>/tree`, on the storage server/ chose. With `keyPath` (the CT key file) the engine
   * runs in a worker thread of its own, which opens that storage through its module; without it (a KMS signer) on
   * this thread.
   */
  static async open(
    dir: string,
    signer: Signer,
    queue: CtEntryStore,
    leafOf: (record: Buffer) => Buffer,
    storage: LogStorageChoice,
    keyPath?: string,
  ): Promise<CtTree> {
    const backend = keyPath
      ? await ThreadTree.open(dir, keyPath, storage.module)
      : await InlineTree.open(dir, signer, storage.open);
    const tree = new CtTree(backend, queue, signer, leafOf);
    if (tree.merged > queue.size())
      throw new Error(`CT tree has ${tree.merged} entries but the entry queue only ${queue.size()}`);
    // Entries queued before a crash but not yet merged; on a shared queue, those other frontends queue.
    queue.watch?.(() => void tree.catchUp());
    tree.catchUp();
    return tree;
  }

  /**
   * Appends every queued entry the tree does not hold yet. Cheap to call after each durable append; never
   * rejects: a failed merge (storage trouble) is retried a second later, the entries being safe in the queue.
   */
  catchUp(): Promise<void> {
    const later = () => {
      this.retry ??= setTimeout(() => {
        this.retry = undefined;
        void this.catchUp();
      }, MERGE_RETRY_MS);
    };
    this.merging ??= this.mergeLoop().then(
      (sequencing) => {
        this.merging = undefined;
        // A frontend that does not sequence a shared tree looks again later: it may be elected by then.
        if (this.merged < this.queue.size()) {
          if (sequencing) void this.catchUp();
          else later();
        }
      },
      (err: unknown) => {
        this.merging = undefined;
        this.lastError = err;
        later();
      },
    );
    return this.merging;
  }

  /** Merges what the tree lacks; false when another process sequences the tree (a shared store's follower). */
  private async mergeLoop(): Promise<boolean> {
    if (this.backend.isSequencer?.() === false) return false;
    // After a failover the tree may hold what another sequencer merged.
    this.merged = Math.max(this.merged, this.backend.head().size);
    while (this.merged < this.queue.size()) {
      const end = Math.min(this.queue.size(), this.merged + MERGE_CHUNK);
      const leaves = (await this.queue.read(this.merged, end)).map(this.leafOf);
      await this.backend.append(this.merged, leaves);
      this.merged = end;
    }
    return true;
  }

  size(): number {
    return this.backend.head().size;
  }

  /** RFC 6962 §4.3 get-sth. */
  async sth(): Promise<SignedTreeHead> {
    const head = this.backend.head();
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
    return this.backend.consistency(first, second);
  }

  /** RFC 6962 §4.5 get-proof-by-hash: undefined when no entry with that leaf hash is in the tree of `size`. */
  proofByHash(hash: Buffer, size: number): Promise<{ index: number; path: Buffer[] } | undefined> {
    return this.backend.proveByHash(hash, size);
  }

  async close(): Promise<void> {
    clearTimeout(this.retry);
    await this.catchUp();
    await this.backend.close();
    // Unmerged entries are still durable in the queue and merged on the next start.
    if (this.merged < this.queue.size() && this.lastError) throw this.lastError;
  }
}
