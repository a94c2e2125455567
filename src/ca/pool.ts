// Worker threads for issuance. Each certificate costs two signature verifications, a public-key import and three
// signatures; one JavaScript thread tops out well below what the machine's cores can do, so the main thread keeps
// only HTTP and the CT store (a single writer) and hands the crypto to a pool of workers (issue-worker.ts).
// See docs/design/ca-issuance.md.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../ct/index.js';
import type { PreparedCertificate, Preparer, SigningRequest } from './authority.js';
import { CaError } from './errors.js';
import type { IssuerConfig } from './identity.js';
import type { WorkerReply, WorkerRequest } from './issue-worker.js';

/** More workers than cores only adds contention; the main thread needs a share too. */
export function defaultWorkerCount(): number {
  return Math.min(4, availableParallelism());
}

interface Slot {
  worker: Worker;
  inflight: number;
}

export class IssuePool implements Preparer {
  private readonly pending = new Map<
    number,
    { resolve: (p: PreparedCertificate) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;

  private constructor(private readonly slots: Slot[]) {
    for (const slot of slots) slot.worker.on('message', (m: WorkerReply) => this.onReply(slot, m));
  }

  static async start(count: number, dataDir: string, issuers: IssuerConfig[]): Promise<IssuePool> {
    const slots = await Promise.all(
      Array.from({ length: count }, async () => {
        const worker = spawnModuleWorker(import.meta.url, 'issue-worker', { dataDir, issuers });
        await new Promise<void>((resolve, reject) => {
          worker.once('message', (m: WorkerReply) =>
            'type' in m && m.type === 'ready' ? resolve() : undefined,
          );
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`issue worker exited with ${code} while starting`)));
        });
        worker.removeAllListeners('error');
        worker.removeAllListeners('exit');
        return { worker, inflight: 0 };
      }),
    );
    const pool = new IssuePool(slots);
    for (const slot of slots) {
      slot.worker.on('error', (err) => pool.failAll(err));
      slot.worker.on('exit', (code) => {
        // A dead worker leaves the pool; with none left, issuance falls back to the main thread.
        pool.slots.splice(pool.slots.indexOf(slot), 1);
        pool.failAll(new Error(`issue worker exited with ${code}`));
      });
    }
    return pool;
  }

  prepare(req: SigningRequest): Promise<PreparedCertificate> | undefined {
    // No live worker: the caller issues in-process.
    if (this.slots.length === 0) return undefined;
    // The least busy worker takes it.
    let slot = this.slots[0];
    for (const s of this.slots) if (s.inflight < slot.inflight) slot = s;
    const id = this.nextId++;
    slot.inflight++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, req } satisfies WorkerRequest);
    });
  }

  setIssuers(issuers: IssuerConfig[]): void {
    for (const s of this.slots) s.worker.postMessage({ type: 'issuers', issuers } satisfies WorkerRequest);
  }

  private onReply(slot: Slot, m: WorkerReply): void {
    if ('type' in m) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    slot.inflight--;
    if ('error' in m) {
      p.reject(m.error.status ? new CaError(m.error.status, m.error.message) : new Error(m.error.message));
    } else {
      p.resolve({ leafPem: m.leafPem, ctRecord: m.ctRecord ? Buffer.from(m.ctRecord) : undefined });
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    await Promise.all(
      this.slots.map((s) => {
        s.worker.removeAllListeners('exit');
        return s.worker.terminate();
      }),
    );
  }
}
