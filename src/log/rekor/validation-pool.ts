// Entry validation and SET signing off the main thread. Checking a proposed entry's signature is most of an
// append's CPU time and signing its SET is the next largest piece; neither needs log state, so a small pool of
// worker threads does both while the main thread keeps HTTP, sequencing and SQLite: both cores work. Jobs that
// arrive in one turn of the event loop are sent together, one message per worker (a message to an idle thread
// costs a wake-up); SET signatures go first in it and each worker holds only a short queue of validations, so
// an answer never waits behind a burst of proposals.
// The pool is process-wide, shared by every log in the process, and its idle workers do not keep the process
// alive. Design note: docs/design/log-batching.md.
import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { signFunction } from '../../crypto/index.js';
import { FormatError } from '../../formats/rekor-entry.js';
import { leafHash } from '../../merkle/hash.js';
import { startWorker } from '../workers.js';
import { type Proposal, type ValidatedEntry, validateEntries } from './entry-types.js';
import { KeyError } from './keys.js';

/**
 * Worker threads by default: one per core besides the main thread's (at most 4), none on a single core. More
 * threads than cores only add wake-ups, which cost tens of µs of CPU each on a VM: on 2 cores one worker gave
 * 4,574-4,854 appends/s at 348-366 µs of CPU per entry, two workers 4,552-4,556/s at 362-363 µs.
 */
export const DEFAULT_VALIDATION_THREADS = Math.min(4, availableParallelism() - 1);
/**
 * Validation jobs a worker holds at once (queued in its port or being worked on); the rest wait in the pool.
 * A message is answered as a whole, so a short queue per worker keeps SET signatures (answers whose batch is
 * committing) from waiting behind a burst of new proposals.
 */
const MAX_OUTSTANDING_VALIDATIONS = 32;
/** Jobs a turn may bring and still be done on the calling thread when every worker is idle (see #dispatch). */
const INLINE_MAX_JOBS = 2;

export interface Validated extends ValidatedEntry {
  leafHash: Buffer;
}

/**
 * One job in a message: a proposal to validate, or a message to sign with the key numbered `key`. Text to sign
 * travels as a string: a Buffer from node's pool would take its whole 8 KiB slab along through the clone.
 */
export type WorkerJob = { validate: Proposal } | { sign: Uint8Array | string; key: number };

export interface WorkerRequest {
  id: number;
  jobs: WorkerJob[];
  /** Keys this worker has not been sent before; it keeps them (and their prepared signers) by number. */
  keys: { id: number; key: KeyObject }[];
}

export type WorkerResult =
  | { kind: string; apiVersion: string; body: Uint8Array; terms: string[]; leafHash: Uint8Array }
  | { signature: Uint8Array }
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
  /**
   * Signs `message` (a string: its UTF-8 bytes) with a local private key exactly as crypto's localSigner does
   * (SHA-256/384 ECDSA, Ed25519).
   */
  sign(key: KeyObject, message: Uint8Array | string): Promise<Buffer>;
}

const signers = new WeakMap<KeyObject, (message: Uint8Array) => Buffer>();

/** Signs as crypto's localSigner does (natively for ECDSA when the addon is built), the signer made once per key. */
export function signWith(key: KeyObject, message: Uint8Array | string): Buffer {
  let signer = signers.get(key);
  if (!signer) {
    signer = signFunction(key);
    signers.set(key, signer);
  }
  return signer(typeof message === 'string' ? Buffer.from(message, 'utf8') : message);
}

/** Process-wide numbers for signing keys, so a worker is sent each key once. */
const keyNumbers = new WeakMap<KeyObject, number>();
let nextKeyNumber = 0;
function keyNumber(key: KeyObject): number {
  let n = keyNumbers.get(key);
  if (n === undefined) {
    n = nextKeyNumber++;
    keyNumbers.set(key, n);
  }
  return n;
}

/** Works on the calling thread (no pool: single-core machines, or `validationThreads: 0`). */
export const inlineValidator: EntryValidator = {
  async validate(proposal) {
    const [r] = validateEntries([proposal]);
    if (r instanceof Error) throw r;
    return { ...r, leafHash: leafHash(r.body) };
  },
  async sign(key, message) {
    return signWith(key, message);
  },
};

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Rebuilds the worker's error as the class the HTTP layer maps to a status (FormatError, KeyError: 400). */
function toError({ type, message }: { type: string; message: string }): Error {
  if (type === 'FormatError') return new FormatError(message);
  if (type === 'KeyError') return new KeyError(message);
  if (type === 'RangeError') return new RangeError(message);
  return new Error(`log worker failed: ${message}`);
}

type Job = (
  | { proposal: Proposal; resolve: (v: Validated) => void }
  | { key: KeyObject; message: Uint8Array | string; resolve: (v: Buffer) => void }
) & { reject: (e: unknown) => void };

function settle(job: Job, r: WorkerResult): void {
  if ('error' in r) job.reject(toError(r.error));
  else if ('signature' in r && 'key' in job) job.resolve(asBuffer(r.signature));
  else if ('body' in r && 'proposal' in job) {
    job.resolve({
      kind: r.kind,
      apiVersion: r.apiVersion,
      body: asBuffer(r.body),
      terms: r.terms,
      leafHash: asBuffer(r.leafHash),
    });
  } else job.reject(new Error('log worker answered a job with the wrong kind of result'));
}

/** Runs a job on the calling thread (when it cannot be sent to a worker). */
function runInline(job: Job): void {
  if ('proposal' in job) inlineValidator.validate(job.proposal).then(job.resolve, job.reject);
  else inlineValidator.sign(job.key, job.message).then(job.resolve, job.reject);
}

class PoolWorker {
  readonly worker: Worker;
  readonly inFlight = new Map<number, Job[]>();
  /** Validation jobs sent and not yet answered. */
  validations = 0;
  readonly #keysSent = new Set<number>();

  constructor(
    onFailure: (w: PoolWorker, err: unknown) => void,
    readonly onAnswer: () => void,
  ) {
    this.worker = startWorker(new URL('./validation-worker.js', import.meta.url));
    this.worker.on('message', (reply: WorkerReply) => this.#onReply(reply));
    this.worker.on('error', (err) => onFailure(this, err));
    this.worker.on('exit', (code) => onFailure(this, new Error(`log worker exited with code ${code}`)));
    // Only after the listeners: adding a 'message' listener refs the worker's port again.
    this.worker.unref();
  }

  /** Throws (and owes nothing) when a job cannot be cloned, e.g. parsed JSON nested too deeply. */
  send(id: number, jobs: Job[]): void {
    const keys: WorkerRequest['keys'] = [];
    const wire: WorkerJob[] = jobs.map((j) => {
      if ('proposal' in j) return { validate: j.proposal };
      const n = keyNumber(j.key);
      if (!this.#keysSent.has(n) && !keys.some((k) => k.id === n)) keys.push({ id: n, key: j.key });
      return { sign: j.message, key: n };
    });
    this.worker.postMessage({ id, jobs: wire, keys } satisfies WorkerRequest);
    for (const k of keys) this.#keysSent.add(k.id);
    this.inFlight.set(id, jobs);
    this.validations += countValidations(jobs);
    // Keep the process alive while a worker owes answers; an idle pool must not.
    if (this.inFlight.size === 1) this.worker.ref();
  }

  #onReply({ id, results }: WorkerReply): void {
    const jobs = this.inFlight.get(id);
    if (!jobs) return;
    this.inFlight.delete(id);
    this.validations -= countValidations(jobs);
    if (this.inFlight.size === 0) this.worker.unref();
    for (const [i, r] of results.entries()) settle(jobs[i], r);
    this.onAnswer();
  }

  /** Rejects everything it owes (it died). */
  fail(err: unknown): void {
    for (const jobs of this.inFlight.values()) for (const j of jobs) j.reject(err);
    this.inFlight.clear();
    this.validations = 0;
  }
}

const countValidations = (jobs: Job[]) => jobs.reduce((n, j) => n + ('proposal' in j ? 1 : 0), 0);

class WorkerPool implements EntryValidator {
  readonly #size: number;
  #workers: PoolWorker[] = [];
  #signs: Job[] = [];
  #validations: Job[] = [];
  #scheduled = false;
  #nextId = 0;

  constructor(size: number) {
    this.#size = size;
  }

  validate(proposal: Proposal): Promise<Validated> {
    return new Promise((resolve, reject) => {
      this.#validations.push({ proposal, resolve, reject });
      this.#schedule();
    });
  }

  sign(key: KeyObject, message: Uint8Array | string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#signs.push({ key, message, resolve, reject });
      this.#schedule();
    });
  }

  /** Dispatches once this turn of the event loop is over, so that the jobs it brought travel together. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#dispatch());
  }

  #dispatch(): void {
    this.#scheduled = false;
    // A lone job while every worker sleeps is done here: waking a worker and being woken by its answer costs
    // more CPU than the job (an entry's check is ~60 µs), and the answer comes sooner. Under load the workers
    // always owe answers, so the work stays with them. Measured on 2 cores: 10-12% less CPU per entry at 500
    // and 1,000 entries/s offered, p50 1.6-1.9 ms instead of 2.1-2.8 ms; the same throughput at saturation.
    if (
      this.#signs.length + this.#validations.length <= INLINE_MAX_JOBS &&
      this.#workers.every((w) => w.inFlight.size === 0)
    ) {
      for (const job of [...this.#signs.splice(0), ...this.#validations.splice(0)]) runInline(job);
      return;
    }
    while (this.#workers.length < this.#size) {
      this.#workers.push(
        new PoolWorker(
          (w, err) => this.#replace(w, err),
          () => {
            if (this.#validations.length > 0) this.#schedule();
          },
        ),
      );
    }
    // One message per worker per turn (a message to an idle thread costs a wake-up): its share of the SET
    // signatures, first, then as many validations as its short queue takes; the rest go when answers come back.
    const signs = this.#signs.splice(0);
    const per = Math.ceil(signs.length / this.#workers.length);
    const byLoad = [...this.#workers].sort((a, b) => a.validations - b.validations);
    byLoad.forEach((w, i) => {
      const room = Math.max(0, MAX_OUTSTANDING_VALIDATIONS - w.validations);
      const jobs = [...signs.slice(i * per, (i + 1) * per), ...this.#validations.splice(0, room)];
      if (jobs.length > 0) this.#send(w, jobs);
    });
  }

  #send(w: PoolWorker, chunk: Job[]): void {
    try {
      w.send(this.#nextId++, chunk);
    } catch {
      // A job the structured clone refuses (parsed JSON nested deeper than its stack): send the others on
      // their own and run the refused ones here, where they get the same answer they would get in a worker.
      for (const job of chunk) {
        try {
          w.send(this.#nextId++, [job]);
        } catch {
          runInline(job);
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
    if (this.#validations.length > 0 || this.#signs.length > 0) this.#schedule();
  }
}

const pools = new Map<number, WorkerPool>();

/** The process-wide validator with `threads` workers (0: work on the calling thread). */
export function entryValidator(threads = DEFAULT_VALIDATION_THREADS): EntryValidator {
  if (threads <= 0) return inlineValidator;
  let pool = pools.get(threads);
  if (!pool) {
    pool = new WorkerPool(threads);
    pools.set(threads, pool);
  }
  return pool;
}
