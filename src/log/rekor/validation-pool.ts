// Entry validation and SET signing off the main thread. Checking a proposed entry's signature is most of an
// append's CPU time and signing its SET is the next largest piece; neither needs log state, so a small pool of
// worker threads does both while the main thread keeps HTTP, sequencing and SQLite: both cores work. Jobs that
// arrive in one turn of the event loop are sent together. Each worker keeps a few small messages of validations
// queued, so that it still has work while the main thread is busy answering a batch, and takes SET signatures on
// a port of their own that it looks at between validations, so an answer never waits behind that queue.
// The pool is process-wide, shared by every log in the process, and its idle workers do not keep the process
// alive. Design note: docs/design/log-batching.md. It keeps its own messages rather than workers/' call helper:
// a message carries many jobs, answered as a whole, and SETs go over the second port, which that helper has no
// notion of; a message per job would cost more than the job on this hot path.
import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { signFunction } from '../../crypto/index.js';
import { FormatError } from '../../formats/index.js';
import { leafHash } from '../../merkle/index.js';
import { startWorker } from '../../workers/index.js';
import { type Proposal, type ValidatedEntry, validateEntries } from './entry-types.js';
import { KeyError } from './keys.js';

/**
 * Worker threads by default: one per core besides the main thread's (at most 4), none on a single core. More
 * threads than cores only add wake-ups, which cost tens of µs of CPU each on a VM: on 2 cores one worker gave
 * 4,574-4,854 appends/s at 348-366 µs of CPU per entry, two workers 4,552-4,556/s at 362-363 µs.
 */
export const DEFAULT_VALIDATION_THREADS = Math.min(4, availableParallelism() - 1);
/**
 * Validation jobs a worker holds at once (queued in its port or being worked on), in messages of at most
 * VALIDATIONS_PER_MESSAGE (each answered as a whole); the rest wait in the pool. Enough that the worker does not
 * run dry while the main thread spends a few milliseconds answering a committed batch, few enough that a
 * proposal does not queue long in one worker while another is free. Measured on 2 cores at saturation (20 s,
 * empty log): one message of at most 32, signatures queued behind it, left the machine 14-16% idle at
 * 4,450-4,970 appends/s; 64 in messages of 16, signatures on their own port, 5-6% idle at 5,190-5,250/s.
 */
const MAX_OUTSTANDING_VALIDATIONS = 64;
const VALIDATIONS_PER_MESSAGE = 16;
/** Jobs a turn may bring and still be done on the calling thread when every worker is idle (see #dispatch). */
const INLINE_MAX_JOBS = 2;

export interface Validated extends ValidatedEntry {
  leafHash: Buffer;
}

/** Proposals for a worker to validate, answered in one ValidateReply (results in the same order). */
export interface ValidateRequest {
  id: number;
  jobs: Proposal[];
}

/**
 * Messages for a worker to sign, on its signing port, each with the key numbered `key`. Text to sign travels as
 * a string: a Buffer from node's pool would take its whole 8 KiB slab along through the clone.
 */
export interface SignRequest {
  id: number;
  jobs: { sign: Uint8Array | string; key: number }[];
  /** Keys this worker has not been sent before; it keeps them (and their prepared signers) by number. */
  keys: { id: number; key: KeyObject }[];
}

export type WorkerResult =
  | { kind: string; apiVersion: string; body: Uint8Array; terms: string[]; leafHash: Uint8Array }
  | { signature: Uint8Array }
  | { error: { type: 'FormatError' | 'KeyError' | 'RangeError' | 'Error'; message: string } };

export interface ValidateReply {
  id: number;
  results: WorkerResult[];
}

export type SignReply = ValidateReply;

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

type ValidationJob = { proposal: Proposal; resolve: (v: Validated) => void; reject: (e: unknown) => void };
type SignJob = {
  key: KeyObject;
  message: Uint8Array | string;
  resolve: (v: Buffer) => void;
  reject: (e: unknown) => void;
};
type Job = ValidationJob | SignJob;

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
  /** The main thread's end of the worker's signing port. */
  readonly signPort: MessagePort;
  readonly inFlight = new Map<number, Job[]>();
  /** Validation jobs sent and not yet answered. */
  validations = 0;
  readonly #keysSent = new Set<number>();

  constructor(
    onFailure: (w: PoolWorker, err: unknown) => void,
    readonly onAnswer: () => void,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.signPort = port1;
    this.worker = startWorker(new URL('./validation-worker.js', import.meta.url), { signPort: port2 }, [
      port2,
    ]);
    this.worker.on('message', (reply: ValidateReply) => this.#onReply(reply));
    this.signPort.on('message', (reply: SignReply) => this.#onReply(reply));
    this.worker.on('error', (err) => onFailure(this, err));
    this.worker.on('exit', (code) => onFailure(this, new Error(`log worker exited with code ${code}`)));
    // Only after the listeners: adding a 'message' listener refs a port again. The worker is ref'd while it owes
    // answers (#owe); its signing port never keeps the process alive by itself.
    this.worker.unref();
    this.signPort.unref();
  }

  /** Throws (and owes nothing) when a job cannot be cloned, e.g. parsed JSON nested too deeply. */
  sendValidations(id: number, jobs: ValidationJob[]): void {
    this.worker.postMessage({ id, jobs: jobs.map((j) => j.proposal) } satisfies ValidateRequest);
    this.validations += jobs.length;
    this.#owe(id, jobs);
  }

  sendSigns(id: number, jobs: SignJob[]): void {
    const keys: SignRequest['keys'] = [];
    const wire = jobs.map((j) => {
      const n = keyNumber(j.key);
      if (!this.#keysSent.has(n) && !keys.some((k) => k.id === n)) keys.push({ id: n, key: j.key });
      return { sign: j.message, key: n };
    });
    this.signPort.postMessage({ id, jobs: wire, keys } satisfies SignRequest);
    for (const k of keys) this.#keysSent.add(k.id);
    this.#owe(id, jobs);
  }

  #owe(id: number, jobs: Job[]): void {
    this.inFlight.set(id, jobs);
    // Keep the process alive while a worker owes answers; an idle pool must not.
    if (this.inFlight.size === 1) this.worker.ref();
  }

  #onReply({ id, results }: ValidateReply): void {
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
    this.signPort.close();
  }
}

const countValidations = (jobs: Job[]) => jobs.reduce((n, j) => n + ('proposal' in j ? 1 : 0), 0);

class WorkerPool implements EntryValidator {
  readonly #size: number;
  #workers: PoolWorker[] = [];
  #signs: SignJob[] = [];
  #validations: ValidationJob[] = [];
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
    const byLoad = [...this.#workers].sort((a, b) => a.validations - b.validations);
    // SET signatures: one message per worker, an even share each.
    const signs = this.#signs.splice(0);
    const per = Math.ceil(signs.length / byLoad.length);
    byLoad.forEach((w, i) => {
      const share = signs.slice(i * per, (i + 1) * per);
      if (share.length > 0) w.sendSigns(this.#nextId++, share);
    });
    // Validations: a message at a time to the least loaded worker with room, until none has room.
    for (;;) {
      const w = byLoad.reduce((a, b) => (b.validations < a.validations ? b : a));
      const room = Math.min(VALIDATIONS_PER_MESSAGE, MAX_OUTSTANDING_VALIDATIONS - w.validations);
      if (room <= 0 || this.#validations.length === 0) break;
      this.#sendValidations(w, this.#validations.splice(0, room));
    }
  }

  #sendValidations(w: PoolWorker, chunk: ValidationJob[]): void {
    try {
      w.sendValidations(this.#nextId++, chunk);
    } catch {
      // A job the structured clone refuses (parsed JSON nested deeper than its stack): send the others on
      // their own and run the refused ones here, where they get the same answer they would get in a worker.
      for (const job of chunk) {
        try {
          w.sendValidations(this.#nextId++, [job]);
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
