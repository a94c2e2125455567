// Worker threads for issuance. Each certificate costs two signature verifications, a public-key import and three
// signatures; one JavaScript thread tops out well below what the machine's cores can do, so the main thread keeps
// only HTTP and the CT store (a single writer) and hands the rest of each request, from its raw body to its
// rendered answer, to a pool of workers (issue-worker.ts).
//
// Requests travel in batches: whatever arrived while a worker was busy (or during one turn of the event loop) is
// split among the idle workers, one message each way per worker, because a message costs the sender and the
// receiver about as much as the DER work of a certificate. See docs/design/ca-issuance.md. This is why the pool
// speaks its own batch protocol (answers come back in groups, out of order, their CT records in one moved buffer)
// rather than workers/' one-call-one-reply helper, which would cost a message per request each way.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../workers/index.js';
import type { Preparer, WorkerSctSource } from './authority.js';
import type { IssuerConfig } from './identity.js';
import type { WorkerReply, WorkerRequest } from './issue-worker.js';
import type { PreparedAnswer, SigningInput } from './request.js';

/** More workers than cores only adds contention; the main thread needs a share too. */
export function defaultWorkerCount(): number {
  return Math.min(4, availableParallelism());
}

interface Slot {
  worker: Worker;
  /** Requests handed to this worker and not answered yet. */
  inflight: number;
  /** Batches handed to this worker and not fully answered yet. */
  batches: number;
  /** performance.now() of the last sign of progress: a batch handed over or answers coming back. */
  progressAt: number;
}

/**
 * Batches a worker holds at once. With one, requests that come in while a worker is busy wait on this thread
 * and go to it together when it has answered its batch: fewer, larger messages. A message to a thread that
 * has gone idle costs both threads a wake-up (~40 µs of CPU each on this machine, more than the message's
 * content), and at a steady offered load most batches were one or two requests; the wait adds at most one
 * batch's work (a few hundred µs per request) to a request's latency. Measured at 2,000/s offered: 20-40 µs
 * less CPU per certificate, same latency.
 */
const BATCHES_PER_WORKER = 1;
/**
 * A worker whose batch has shown no progress for this long is waiting, not working (a request stuck on an
 * issuer's discovery or JWKS fetch, up to its 5 s timeout): it gets the next batch anyway, which its event
 * loop runs meanwhile, so that one slow issuer cannot hold up everyone else's certificates.
 */
const STALLED_MS = 25;

interface Waiting {
  input: SigningInput;
  /** Set once its answer came back (answers may come back out of order: see issue-worker.ts). */
  answered?: boolean;
  resolve: (a: PreparedAnswer) => void;
  reject: (e: Error) => void;
}

interface SentBatch {
  slot: Slot;
  items: Waiting[];
  answered: number;
}

export class IssuePool implements Preparer {
  private readonly sent = new Map<number, SentBatch>();
  private nextId = 1;
  private queue: Waiting[] = [];
  private flushScheduled = false;
  private stallTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly slots: Slot[]) {
    for (const slot of slots) slot.worker.on('message', (m: WorkerReply) => this.onReply(m));
  }

  static async start(
    count: number,
    dataDir: string,
    issuers: IssuerConfig[],
    sct?: WorkerSctSource,
  ): Promise<IssuePool> {
    const slots = await Promise.all(
      Array.from({ length: count }, async () => {
        const worker = startWorker(new URL('./issue-worker.js', import.meta.url), { dataDir, issuers, sct });
        await new Promise<void>((resolve, reject) => {
          worker.once('message', (m: WorkerReply) => (m.type === 'ready' ? resolve() : undefined));
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`issue worker exited with ${code} while starting`)));
        });
        worker.removeAllListeners('error');
        worker.removeAllListeners('exit');
        return { worker, inflight: 0, batches: 0, progressAt: 0 };
      }),
    );
    const pool = new IssuePool(slots);
    for (const slot of slots) {
      slot.worker.on('error', (err) => pool.failSlot(slot, err));
      slot.worker.on('exit', (code) => {
        // A dead worker leaves the pool; with none left, issuance falls back to the main thread.
        pool.slots.splice(pool.slots.indexOf(slot), 1);
        pool.failSlot(slot, new Error(`issue worker exited with ${code}`));
      });
    }
    return pool;
  }

  answer(input: SigningInput): Promise<PreparedAnswer> | undefined {
    // No live worker: the caller answers in-process.
    if (this.slots.length === 0) return undefined;
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.scheduleFlush();
    });
  }

  setIssuers(issuers: IssuerConfig[]): void {
    for (const s of this.slots) s.worker.postMessage({ type: 'issuers', issuers } satisfies WorkerRequest);
  }

  /** After the poll phase: every request that came in during this turn of the loop goes in one batch. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.queue.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0) return;
    if (this.slots.length === 0) {
      for (const w of this.queue.splice(0)) w.reject(new Error('no issue worker is running'));
      return;
    }
    const now = performance.now();
    const open = this.slots.filter((s) => s.batches < BATCHES_PER_WORKER || now - s.progressAt > STALLED_MS);
    if (open.length === 0) {
      // Every worker is busy: the queue goes out when one answers, or when one turns out to be stalled.
      this.stallTimer ??= setTimeout(() => {
        this.stallTimer = undefined;
        this.flush();
      }, STALLED_MS);
      return;
    }
    const queue = this.queue;
    this.queue = [];
    // Each request goes to the worker with the least work once this batch is counted in.
    const share = new Map<Slot, Waiting[]>();
    for (const w of queue) {
      let slot = open[0];
      for (const s of open) if (s.inflight < slot.inflight) slot = s;
      slot.inflight++;
      const list = share.get(slot);
      if (list) list.push(w);
      else share.set(slot, [w]);
    }
    for (const [slot, items] of share) {
      slot.batches++;
      slot.progressAt = now;
      const id = this.nextId++;
      this.sent.set(id, { slot, items, answered: 0 });
      slot.worker.postMessage({
        type: 'batch',
        id,
        inputs: items.map((w) => w.input),
      } satisfies WorkerRequest);
    }
  }

  private onReply(m: WorkerReply): void {
    if (m.type !== 'answers') return;
    const batch = this.sent.get(m.id);
    if (!batch) return;
    batch.slot.inflight -= m.answers.length;
    batch.slot.progressAt = performance.now();
    batch.answered += m.answers.length;
    if (batch.answered === batch.items.length) {
      this.sent.delete(m.id);
      batch.slot.batches--;
      // Whatever queued while this worker was busy is its next batch.
      this.scheduleFlush();
    }
    // The records of the group arrive in one transferred buffer, back to back.
    const records = m.records ? Buffer.from(m.records) : undefined;
    let offset = 0;
    for (let i = 0; i < m.answers.length; i++) {
      const r = m.answers[i];
      const waiting = batch.items[m.indices[i]];
      waiting.answered = true;
      if ('error' in r) {
        waiting.reject(new Error(r.error));
        continue;
      }
      let ctRecord: Buffer | undefined;
      if (r.recordLength > 0 && records) {
        ctRecord = records.subarray(offset, offset + r.recordLength);
        offset += r.recordLength;
      }
      waiting.resolve({ status: r.status, contentType: r.contentType, body: r.body, ctRecord });
    }
  }

  /** A worker failed: whatever it was working on fails (the clients get a 500 and may retry). */
  private failSlot(slot: Slot, err: Error): void {
    for (const [id, batch] of this.sent) {
      if (batch.slot !== slot) continue;
      this.sent.delete(id);
      for (const w of batch.items) if (!w.answered) w.reject(err);
    }
    slot.inflight = 0;
    slot.batches = 0;
    // Requests waiting for a worker go to the others (or fail if there are none left).
    this.scheduleFlush();
  }

  async close(): Promise<void> {
    clearTimeout(this.stallTimer);
    await Promise.all(
      this.slots.map((s) => {
        s.worker.removeAllListeners('exit');
        return s.worker.terminate();
      }),
    );
  }
}
