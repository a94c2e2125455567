// The main-thread side of the CT tree worker (tree-worker.ts): a TreeBackend whose calls are messages.
import type { Worker } from 'node:worker_threads';
import { type Calls, callsOver, startWorker } from '../workers/index.js';
import type { TreeBackend, TreeHeadInfo } from './tree-backend.js';
import type { TreeHeadMessage, TreeRequest } from './tree-worker.js';

export class ThreadTree implements TreeBackend {
  private current: TreeHeadInfo = { size: 0, root: Buffer.alloc(32), timestamp: 0 };
  private worker!: Worker;
  private calls!: Calls;
  /** Set while a worker is starting; a worker that dies is replaced on the next call. */
  private starting: Promise<void> | undefined;
  private alive = false;
  private closing = false;

  private constructor(
    private readonly dir: string,
    private readonly keyPath: string,
    private readonly storageModule: string,
  ) {}

  /**
   * Starts the worker on `<dir>/tree`, signing checkpoints with the PKCS#8 key at `keyPath`, on the storage
   * backend the module at `storageModule` opens (LogStorageChoice.module).
   */
  static async open(dir: string, keyPath: string, storageModule: string): Promise<ThreadTree> {
    const tree = new ThreadTree(dir, keyPath, storageModule);
    await tree.start();
    return tree;
  }

  private start(): Promise<void> {
    this.starting ??= new Promise<void>((resolve, reject) => {
      const worker = startWorker(new URL('./tree-worker.js', import.meta.url), {
        dir: this.dir,
        keyPath: this.keyPath,
        storageModule: this.storageModule,
      });
      const calls = callsOver((m, transfer) => worker.postMessage(m, transfer));
      this.worker = worker;
      this.calls = calls;
      let ready = false;
      worker.on('message', (m: TreeHeadMessage) => {
        if (calls.settle(m)) return;
        if (!ready) {
          ready = true;
          this.alive = true;
          resolve();
        }
        // Heads only grow; replies may interleave with head updates.
        if (m.size >= this.current.size)
          this.current = { size: m.size, root: Buffer.from(m.root), timestamp: m.timestamp };
      });
      worker.on('error', (err) => {
        if (!ready) reject(err);
        calls.failAll(err);
      });
      worker.on('exit', (code) => {
        this.alive = false;
        if (!ready) reject(new Error(`CT tree worker exited with ${code} while starting`));
        if (!this.closing) calls.failAll(new Error(`CT tree worker exited with ${code}`));
      });
    }).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async call<T>(request: TreeRequest, transfer: ArrayBuffer[] = []): Promise<T> {
    // The queue holds every entry, so a replacement worker simply carries on where the tree's storage is.
    if (!this.alive) await this.start();
    return this.calls.call<T>(request, transfer);
  }

  head(): TreeHeadInfo {
    return this.current;
  }

  async append(start: number, leaves: Buffer[]): Promise<void> {
    // Packed into one buffer that is moved, not copied: leaves are views into larger records, and cloning a
    // view would copy its whole underlying buffer.
    let total = 0;
    for (const l of leaves) total += l.length;
    const packed = new ArrayBuffer(total);
    const bytes = new Uint8Array(packed);
    const lengths: number[] = [];
    let offset = 0;
    for (const l of leaves) {
      bytes.set(l, offset);
      offset += l.length;
      lengths.push(l.length);
    }
    await this.call({ op: 'append', start, packed, lengths }, [packed]);
  }

  async consistency(first: number, second: number): Promise<Buffer[]> {
    const out = await this.call<Uint8Array[]>({ op: 'consistency', first, second });
    return out.map((u) => Buffer.from(u));
  }

  async proveByHash(hash: Buffer, size: number) {
    const out = await this.call<{ index: number; path: Uint8Array[] } | undefined>({
      op: 'prove',
      hash,
      size,
    });
    return out && { index: out.index, path: out.path.map((u) => Buffer.from(u)) };
  }

  async close(): Promise<void> {
    if (this.alive) await this.call({ op: 'close' });
    this.closing = true;
    await this.worker.terminate();
  }
}
