// Entry validation off the main thread. Checking a proposed entry's signature is most of an append's CPU time,
// and it needs no log state, so a small pool of worker threads does it while the main thread keeps HTTP,
// sequencing and SQLite: both cores work. Proposals that arrive in the same turn of the event loop are sent
// together (one message per worker per turn, amortising postMessage, and letting the worker batch the ECDSA
// inversions). The pool is process-wide, shared by every log in the process, and its idle workers do not keep
// the process alive. Design note: docs/design/log-batching.md.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { FormatError } from '../../formats/rekor-entry.js';
import { leafHash } from '../../merkle/hash.js';
import { startWorker } from '../workers.js';
import { type Proposal, type ValidatedEntry, validateEntries } from './entry-types.js';
import { KeyError } from './keys.js';

/** Worker threads by default: two on a machine with more than one core (the main thread is the third), else none. */
export const DEFAULT_VALIDATION_THREADS = availableParallelism() > 1 ? 2 : 0;
/** Most proposals in one message to a worker: bounds the latency a large burst adds to its first entries. */
const MAX_PER_MESSAGE = 64;

export interface Validated extends ValidatedEntry {
  leafHash: Buffer;
}

export interface WorkerRequest {
  id: number;
  proposals: Proposal[];
}

export type WorkerResult =
  | { kind: string; apiVersion: string; body: Uint8Array; terms: string[]; leafHash: Uint8Array }
  | { error: { type: 'FormatError' | 'KeyError' | 'RangeError' | 'Error'; message: string } };

export interface WorkerReply {
  id: number;
  results: WorkerResult[];
}

export interface EntryValidator {
  /**
   * Validates a proposed entry: its request JSON text (cheapest to hand to a worker, which then also parses it)
   * or an already parsed value.
   */
  validate(proposal: Proposal): Promise<Validated>;
}

/** Validates on the calling thread (no pool: single-core machines, or `validationThreads: 0`). */
export const inlineValidator: EntryValidator = {
  async validate(proposal) {
    const [r] = validateEntries([proposal]);
    if (r instanceof Error) throw r;
    return { ...r, leafHash: leafHash(r.body) };
  },
};

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Rebuilds the worker's error as the class the HTTP layer maps to a status (FormatError, KeyError: 400). */
function toError({ type, message }: { type: string; message: string }): Error {
  if (type === 'FormatError') return new FormatError(message);
  if (type === 'KeyError') return new KeyError(message);
  if (type === 'RangeError') return new RangeError(message);
  return new Error(`entry validation failed: ${message}`);
}

interface Job {
  proposal: Proposal;
  resolve: (v: Validated) => void;
  reject: (e: unknown) => void;
}

class PoolWorker {
  readonly worker: Worker;
  readonly inFlight = new Map<number, Job[]>();
  outstanding = 0;

  constructor(onFailure: (w: PoolWorker, err: unknown) => void) {
    this.worker = startWorker(new URL('./validation-worker.js', import.meta.url));
    this.worker.on('message', (reply: WorkerReply) => this.#onReply(reply));
    this.worker.on('error', (err) => onFailure(this, err));
    this.worker.on('exit', (code) =>
      onFailure(this, new Error(`validation worker exited with code ${code}`)),
    );
    // Only after the listeners: adding a 'message' listener refs the worker's port again.
    this.worker.unref();
  }

  /** Throws (and owes nothing) when a proposal cannot be cloned, e.g. JSON nested too deeply. */
  send(id: number, jobs: Job[]): void {
    this.worker.postMessage({ id, proposals: jobs.map((j) => j.proposal) } satisfies WorkerRequest);
    this.inFlight.set(id, jobs);
    this.outstanding += jobs.length;
    // Keep the process alive while a worker owes answers; an idle pool must not.
    if (this.inFlight.size === 1) this.worker.ref();
  }

  #onReply({ id, results }: WorkerReply): void {
    const jobs = this.inFlight.get(id);
    if (!jobs) return;
    this.inFlight.delete(id);
    this.outstanding -= jobs.length;
    if (this.inFlight.size === 0) this.worker.unref();
    results.forEach((r, i) => {
      if ('error' in r) jobs[i].reject(toError(r.error));
      else
        jobs[i].resolve({
          kind: r.kind,
          apiVersion: r.apiVersion,
          body: asBuffer(r.body),
          terms: r.terms,
          leafHash: asBuffer(r.leafHash),
        });
    });
  }

  /** Rejects everything it owes (it died). */
  fail(err: unknown): void {
    for (const jobs of this.inFlight.values()) for (const j of jobs) j.reject(err);
    this.inFlight.clear();
    this.outstanding = 0;
  }
}

class ValidationPool implements EntryValidator {
  readonly #size: number;
  #workers: PoolWorker[] = [];
  #queue: Job[] = [];
  #scheduled = false;
  #nextId = 0;

  constructor(size: number) {
    this.#size = size;
  }

  validate(proposal: Proposal): Promise<Validated> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ proposal, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#dispatch());
      }
    });
  }

  #dispatch(): void {
    this.#scheduled = false;
    while (this.#workers.length < this.#size) {
      this.#workers.push(new PoolWorker((w, err) => this.#replace(w, err)));
    }
    // Spread the turn's proposals over the workers, the least busy first, so a burst uses every core.
    const jobs = this.#queue.splice(0);
    const per = Math.min(MAX_PER_MESSAGE, Math.ceil(jobs.length / this.#workers.length));
    for (let at = 0; at < jobs.length; at += per) {
      const w = this.#workers.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
      const chunk = jobs.slice(at, at + per);
      try {
        w.send(this.#nextId++, chunk);
      } catch {
        // A proposal the structured clone refuses (nesting deeper than its stack): send the others on their
        // own and check the refused ones here, where they get the same 400 they would get in a worker.
        for (const job of chunk) {
          try {
            w.send(this.#nextId++, [job]);
          } catch {
            inlineValidator.validate(job.proposal).then(job.resolve, job.reject);
          }
        }
      }
    }
  }

  #replace(w: PoolWorker, err: unknown): void {
    const i = this.#workers.indexOf(w);
    if (i < 0) return;
    this.#workers.splice(i, 1);
    w.fail(err);
    void w.worker.terminate();
  }
}

const pools = new Map<number, ValidationPool>();

/** The process-wide validator with `threads` workers (0: validate on the calling thread). */
export function entryValidator(threads = DEFAULT_VALIDATION_THREADS): EntryValidator {
  if (threads <= 0) return inlineValidator;
  let pool = pools.get(threads);
  if (!pool) {
    pool = new ValidationPool(threads);
    pools.set(threads, pool);
  }
  return pool;
}
