// Where the CT log's Merkle tree lives: the generic engine (src/log) on the storage server/ chose, either on the calling
// thread (InlineTree) or in a worker thread of its own (tree-worker.ts, used by the CA service) so that the
// engine's synchronous storage commits never stall the thread that answers certificate requests.
import { join } from 'node:path';
import type { Signer } from '../crypto/index.js';
import { type MerkleLog, type OpenLogStorage, openMerkleLog, rekorNoteSigner } from '../log/index.js';

export const CHECKPOINT_NAME = 'sigil-ct';
/** Entries are already durable in the queue; batches can be large and the MMD allows plenty of time. */
export const MERGE_BATCH_MAX_AGE_MS = 250;
export const MERGE_BATCH_MAX_SIZE = 4096;

export interface TreeHeadInfo {
  size: number;
  root: Buffer;
  timestamp: number;
}

export interface TreeBackend {
  head(): TreeHeadInfo;
  /** False on a frontend that does not sequence a shared tree (the engine's isSequencer); absent: always. */
  isSequencer?(): boolean;
  /** Appends leaves that belong at indices start, start+1, …; resolves once they are committed. */
  append(start: number, leaves: Buffer[]): Promise<void>;
  consistency(first: number, second: number): Promise<Buffer[]>;
  /** Index and audit path of the entry with this RFC 6962 leaf hash, if it is in the tree of `size`. */
  proveByHash(hash: Buffer, size: number): Promise<{ index: number; path: Buffer[] } | undefined>;
  close(): Promise<void>;
}

export class InlineTree implements TreeBackend {
  private constructor(private readonly engine: MerkleLog) {}

  /** The tree's storage is opened in `<dir>/tree`. */
  static async open(dir: string, signer: Signer, openStorage: OpenLogStorage): Promise<InlineTree> {
    return new InlineTree(
      await openMerkleLog({
        storage: openStorage(join(dir, 'tree')),
        origin: CHECKPOINT_NAME,
        signers: [rekorNoteSigner(signer, CHECKPOINT_NAME)],
        batchMaxAgeMs: MERGE_BATCH_MAX_AGE_MS,
        batchMaxSize: MERGE_BATCH_MAX_SIZE,
      }),
    );
  }

  head(): TreeHeadInfo {
    const { size, root, timestamp } = this.engine.head();
    return { size, root, timestamp };
  }

  isSequencer(): boolean {
    return this.engine.isSequencer();
  }

  /**
   * Each append's dedup identity is the engine's default, the RFC 6962 leaf hash: every CT leaf is unique (its
   * TBS has a random serial), so re-appending after a crash is a no-op, and the same index answers
   * get-proof-by-hash without a separate search term (one hash and one index row less per entry).
   */
  async append(start: number, leaves: Buffer[]): Promise<void> {
    await Promise.all(
      leaves.map(async (leaf, i) => {
        const r = await this.engine.append({ leaf });
        if (r.index !== start + i)
          throw new Error(`CT tree out of step with its queue: entry ${start + i} got index ${r.index}`);
      }),
    );
  }

  consistency(first: number, second: number): Promise<Buffer[]> {
    return this.engine.consistencyProof(first, second);
  }

  async proveByHash(hash: Buffer, size: number) {
    // Trees written before leaf-hash identities kept the hash as a search term.
    const index =
      (await this.engine.findByIdentity(hash)) ??
      (await this.engine.findByTerm(hash.toString('base64'), 1))[0];
    if (index === undefined || index >= size) return undefined;
    return { index, path: await this.engine.inclusionProof(index, size) };
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
