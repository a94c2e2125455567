// The generic append-only Merkle log: opaque leaves in, RFC 6962 tree, C2SP tiles and a signed checkpoint out.
// Appends queue up and are sequenced in batches (group commit): a batch gets consecutive indices and one
// timestamp, its tiles and new head are written in one durable storage commit, its checkpoint is signed, and only
// then are its appends resolved. Rekor entries (log/rekor) and the CT log are layers on top of this engine.
// Batching defaults and their trade-offs: docs/design/log-batching.md.

import { formatCheckpoint, formatSignedNote, partialTileWidth, TILE_WIDTH } from '../formats/index.js';
import {
  CompactRange,
  compactSubtrees,
  consistencyRanges,
  EMPTY_ROOT,
  hashFromSubtrees,
  inclusionPath,
  type LeafRange,
  leafHash,
  nodeRange,
  rangeSubtrees,
  type SubtreeNode,
} from '../merkle/index.js';
import { type AppendForwarder, type ForwardedAppend, headFromAnswer } from './forwarding.js';
import type { NoteSigner } from './note-signer.js';
import {
  type BatchWrite,
  type LogStorage,
  type SequencerElection,
  StorageUnavailableError,
  type StoredEntry,
  type TileKey,
  type TileWrite,
  type TreeHead,
} from './storage.js';
import { locateSubtree, TileCache, tileRoot } from './tile-cache.js';

/** Most entries in one batch (Tessera's default too): bounds the commit size and the latency of a full batch. */
export const DEFAULT_BATCH_MAX_SIZE = 256;
/**
 * Longest an append waits for its batch to fill before the batch is sequenced anyway. 0 (the default): a batch is
 * cut as soon as the previous one has committed, so a batch is whatever arrived during the previous commit (group
 * commit that sizes itself to the load); a positive age makes batches wait to fill (the CT log's merges do).
 */
export const DEFAULT_BATCH_MAX_AGE_MS = 0;
/**
 * The age a batch may reach while the pipeline is busy (BUSY_IN_FLIGHT batches or more still committing): under
 * load each batch has its fixed costs (a checkpoint signature, a commit message and transaction, new edge tiles,
 * the proofs' ragged ranges), so batches are let fill a little, while an append to a quiet log is not held back.
 * Measured at saturation on 2 cores: batches of ~36 entries instead of ~22 and 6% less CPU per entry.
 */
export const DEFAULT_BATCH_BUSY_AGE_MS = 3;
const BUSY_IN_FLIGHT = 2;
/** Entry bundles prefix each entry with a big-endian uint16 length (tlog-tiles), so larger leaves cannot be served. */
export const MAX_LEAF_SIZE = 0xffff;
/**
 * On a shared store, how often a process that does not sequence tries to take the lease: failover takes at most
 * this long plus loading the right edge (#17's target: 5 s).
 */
const ELECTION_POLL_MS = 500;
/** How often such a process re-reads the stored head even without a notification from the sequencer. */
const HEAD_POLL_MS = 1000;
/**
 * Batches a follower has on its way to the sequencer at once; what arrives meanwhile waits for the next. One:
 * measured with two frontends at saturation (bench/pg/frontends.ts), two in flight made batches half as big and
 * cost 708 µs of frontend CPU per entry against 467 µs with one.
 */
const FORWARDS_IN_FLIGHT = 1;
/** Most appends in one forwarded batch. */
const FORWARD_BATCH_MAX = 1024;
/** After a failed batch, how soon the sequencer tries again to reload its state when storage cannot be read. */
const RECOVER_RETRY_MS = 500;

/**
 * An append reached a process that does not sequence this (shared) log: `url` is where the sequencer takes
 * appends, as it recorded it, if one has.
 */
export class NotSequencerError extends Error {
  constructor(readonly url: string | undefined) {
    super(
      url
        ? `this process does not sequence the log; ${url} does`
        : 'no process sequences the log right now; retry',
    );
  }
}

/** Leaf-range hashes kept for proofs: a few batches' worth of inclusion proofs (~20 ranges each). */
const RANGE_CACHE_SIZE = 16_384;

/** A bounded map that forgets its oldest insertions first. */
class RangeCache {
  readonly #max: number;
  readonly #map = new Map<string, Buffer>();

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string): Buffer | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: Buffer): void {
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
  }

  clear(): void {
    this.#map.clear();
  }
}

export interface SequencedPosition {
  index: number;
  /** Milliseconds since the epoch; the same for every entry of a batch, never decreasing. */
  timestamp: number;
}

export interface AppendInput {
  /** The leaf input, or a function building it once its index and timestamp are known (static-ct-api leaves). */
  leaf: Uint8Array | ((position: SequencedPosition) => Uint8Array);
  /**
   * Dedup key: a second append with an identity already in the log resolves to the existing entry (duplicate:
   * true). Defaults to the leaf hash when `leaf` is bytes; required when `leaf` is a function.
   */
  identity?: Uint8Array;
  /** Search terms the entry can be found by (findByTerm). */
  terms?: string[];
  /**
   * leafHash(leaf), when the caller has already computed it over these exact bytes (the Rekor layer's validation
   * worker does): saves hashing the leaf again on the sequencing thread. Ignored for a leaf builder.
   */
  leafHash?: Uint8Array;
  /**
   * Called when the entry has its index and timestamp, before its batch is durable (never for a duplicate): work
   * that depends on the position (a Rekor SET) can then overlap the commit. Nothing of it may be released before
   * append() resolves, since the batch can still fail.
   */
  onSequenced?: (position: SequencedPosition) => void;
}

export interface AppendResult extends SequencedPosition {
  leafHash: Buffer;
  /** True when the identity was already in the log: index/timestamp/leafHash are the existing entry's. */
  duplicate: boolean;
  /** The first committed head that contains the entry (for a duplicate: the current head). */
  head: TreeHead;
}

export interface MerkleLogOptions {
  /** Where entries, tiles and heads are committed (a backend from src/storage/, chosen by server/). */
  storage: LogStorage;
  /** Checkpoint origin line, e.g. "rekor.example.com - 1234" or "example.com/log". */
  origin: string;
  /** Checkpoint signers; at least one. */
  signers: NoteSigner[];
  batchMaxSize?: number;
  batchMaxAgeMs?: number;
  /** Batch age while the pipeline is busy (DEFAULT_BATCH_BUSY_AGE_MS); never less than batchMaxAgeMs. */
  batchBusyAgeMs?: number;
  /** Clock in milliseconds since the epoch (tests inject one). */
  now?: () => number;
  /** Called when a batch fails to commit (the batch's appends are rejected and state is reloaded). */
  onError?: (err: unknown) => void;
  /**
   * On a store several processes share (storage.election): where this process takes appends, recorded for the
   * others while it is the sequencer (without one, appends made elsewhere cannot be forwarded to it).
   */
  sequencerUrl?: string;
  /**
   * On a shared store: how this process, while it does not sequence, hands appends to the one that does (the
   * HTTP adapter's transport, forwarding.ts). Without it such appends are refused with NotSequencerError.
   */
  forward?: AppendForwarder;
}

export interface MerkleLog {
  readonly origin: string;
  /**
   * Sequences an entry. On a shared store only the elected process does; elsewhere it rejects with
   * NotSequencerError, naming the process to send it to.
   */
  append(input: AppendInput): Promise<AppendResult>;
  /** The latest committed head this process knows (on a shared store, as of its last read of it). */
  head(): TreeHead;
  /**
   * The latest committed head, read from a shared store first, so a checkpoint served here is never older than
   * one any process served before the call.
   */
  freshHead(): Promise<TreeHead>;
  /** Whether this process sequences the log (always, on a store only it opens). */
  isSequencer(): boolean;
  /** Committed entries with start ≤ index < end. */
  entries(start: number, end: number): Promise<StoredEntry[]>;
  entry(index: number): Promise<StoredEntry | undefined>;
  findByIdentity(identity: Uint8Array): Promise<number | undefined>;
  findByTerm(term: string, limit?: number): Promise<number[]>;
  /** Audit path for `index` in the tree of `size` (default: current head), leaf to root. */
  inclusionProof(index: number, size?: number): Promise<Buffer[]>;
  /** Consistency proof from tree size `first` to `second` (default: current head). */
  consistencyProof(first: number, second?: number): Promise<Buffer[]>;
  /** Root hash of the tree of `size` (≤ current head). */
  rootAt(size: number): Promise<Buffer>;
  /** A hash tile (level ≥ 0) as served at tile/<L>/<N>[.p/<W>]; undefined when the tree has no such tile. */
  tile(level: number, index: number, width?: number): Promise<Buffer | undefined>;
  /** An entry bundle as served at tile/entries/<N>[.p/<W>]. */
  entryBundle(index: number, width?: number): Promise<Buffer | undefined>;
  /** Sequences what is queued, then closes storage. */
  close(): Promise<void>;
}

/** Most batches sequenced and not yet committed: enough to overlap signing, the commit and the next batch. */
const MAX_BATCHES_IN_FLIGHT = 4;

/** A sequenced batch on its way to storage: who it answers, and which identities it holds. */
interface Flight {
  results: { p: Pending; result: Omit<AppendResult, 'head'> }[];
  /** Appends of the same identity that arrived in later batches before this one landed. */
  waiters: { p: Pending; result: Omit<AppendResult, 'head'> }[];
  ids: string[];
}

interface Pending {
  input: AppendInput;
  /** When it was queued (performance.now()), for the batch max age. */
  queuedAt: number;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

export async function openMerkleLog(options: MerkleLogOptions): Promise<MerkleLog> {
  if (options.signers.length === 0) throw new Error('a Merkle log needs at least one checkpoint signer');
  const log = new Log(options.storage, options);
  await log.start();
  return log;
}

class Log implements MerkleLog {
  readonly origin: string;
  readonly #storage: LogStorage;
  readonly #signers: NoteSigner[];
  readonly #maxBatch: number;
  readonly #maxAge: number;
  readonly #busyAge: number;
  /** When the pending timer fires (performance.now() time), if one is set. */
  #timerDue = 0;
  readonly #now: () => number;
  readonly #onError: (err: unknown) => void;
  readonly #tiles = new TileCache();
  /** Hashes of committed leaf ranges (see #rangeHashes), most recently computed last. */
  readonly #ranges = new RangeCache(RANGE_CACHE_SIZE);

  #head!: TreeHead;
  /** Uncommitted working state: the right edge as a compact range, and the rightmost tile of each level. */
  #range!: CompactRange;
  #edge!: Buffer[][];
  #lastTimestamp = 0;

  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #flushing: Promise<void> | undefined;
  #closed = false;
  /** Batches sequenced whose commit has not landed yet, and what waits for there to be none. */
  #inFlight = 0;
  #settled: (() => void)[] = [];
  /** Resolves once the last sequenced batch's commit has been issued (commits go to storage in order). */
  #issued: Promise<void> = Promise.resolve();
  /** Identities of entries in batches still committing, for dedup across the pipeline. */
  readonly #uncommitted = new Map<string, { flight: Flight; result: Omit<AppendResult, 'head'> }>();
  /** Set when a batch failed: nothing more is sequenced until the state is rebuilt from storage. */
  #broken: unknown;
  #recovering = false;
  #recoverTimer: NodeJS.Timeout | undefined;
  /** On a shared store: whether this process holds the sequencer lease, and its polling. */
  readonly #election: SequencerElection | undefined;
  readonly #advertisedUrl: string;
  #sequencer = true;
  #sequencerSeen: string | undefined;
  #campaigning = false;
  #timers: NodeJS.Timeout[] = [];
  #unwatch: (() => void) | undefined;
  readonly #forward: AppendForwarder | undefined;
  /** A follower's appends waiting to be forwarded, and how many batches are on their way. */
  #toForward: Pending[] = [];
  #forwarding = 0;
  #forwardScheduled = false;
  /** Inclusion proofs the sequencer sent with forwarded entries, by "index/size", until asked for once. */
  readonly #forwardedProofs = new Map<string, Buffer[]>();
  /** The head read in flight, and the one queued behind it (see #refreshHead). */
  #reading: Promise<void> | undefined;
  #queuedRead: Promise<void> | undefined;

  constructor(storage: LogStorage, options: MerkleLogOptions) {
    this.#storage = storage;
    this.origin = options.origin;
    this.#signers = options.signers;
    this.#maxBatch = options.batchMaxSize ?? DEFAULT_BATCH_MAX_SIZE;
    this.#maxAge = options.batchMaxAgeMs ?? DEFAULT_BATCH_MAX_AGE_MS;
    this.#busyAge = Math.max(this.#maxAge, options.batchBusyAgeMs ?? DEFAULT_BATCH_BUSY_AGE_MS);
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => {});
    this.#election = storage.election;
    this.#advertisedUrl = options.sequencerUrl ?? '';
    this.#forward = options.forward;
  }

  /**
   * Opens the log: on a store only this process opens, as its sequencer; on a shared one, as the sequencer if
   * it wins the lease, else as a reader of the stored head that keeps campaigning (failover).
   */
  async start(): Promise<void> {
    const election = this.#election;
    if (!election) return this.load();
    this.#sequencer = false;
    if (await election.tryLead(this.#advertisedUrl, (err) => this.#lost(err))) {
      await this.load();
      this.#sequencer = true;
    } else {
      // The sequencer writes the first head when it opens an empty log; until then there is nothing to serve.
      for (;;) {
        const stored = await this.#storage.head();
        if (stored) {
          this.#head = stored;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      this.#sequencerSeen = (await election.sequencerUrl()) || undefined;
    }
    this.#unwatch = election.watchHead(() => this.#refreshHead().catch(() => {}));
    const every = (ms: number, f: () => void) => this.#timers.push(setInterval(f, ms).unref());
    every(HEAD_POLL_MS, () => this.#refreshHead().catch(() => {}));
    every(ELECTION_POLL_MS, () => void this.#campaign());
  }

  isSequencer(): boolean {
    return this.#sequencer;
  }

  /** A follower's bid for the lease; on winning it loads the right edge and starts sequencing. */
  async #campaign(): Promise<void> {
    const election = this.#election;
    if (!election || this.#sequencer || this.#campaigning || this.#closed) return;
    this.#campaigning = true;
    try {
      if (!(await election.tryLead(this.#advertisedUrl, (err) => this.#lost(err)))) {
        this.#sequencerSeen = (await election.sequencerUrl()) || undefined;
        return;
      }
      // Batches of an earlier term may still be failing their commits: start from a clean state after them.
      while (this.#inFlight > 0) await new Promise<void>((r) => this.#settled.push(r));
      this.#sequencer = true;
      this.#broken = new StorageUnavailableError('the new sequencer is loading the log');
      this.#tiles.clear();
      this.#uncommitted.clear();
      await this.#recoverWhenIdle();
      // Appends that queued while the state was loading (this frontend's and forwarded ones) go now: nothing else
      // would start them if every client is waiting on one of them.
      this.#schedule();
    } catch {
      // The database is unreachable: the next tick tries again.
    } finally {
      this.#campaigning = false;
    }
  }

  /** The lease ended (process lost its database session): stop sequencing; what is queued is refused. */
  #lost(err: unknown): void {
    if (this.#closed || !this.#sequencer) return;
    this.#sequencer = false;
    this.#sequencerSeen = undefined;
    this.#onError(err);
    const refusal = new StorageUnavailableError('the log lost its sequencer; retry shortly');
    for (const p of this.#pending.splice(0)) p.reject(refusal);
  }

  /**
   * Reads the stored head into this process (not the sequencer's: its own head is the newest). A caller gets a
   * read that started after its call, so it sees every head committed before it called.
   */
  #refreshHead(): Promise<void> {
    if (this.#sequencer || !this.#election) return Promise.resolve();
    if (this.#queuedRead) return this.#queuedRead;
    const read = async () => {
      const stored = await this.#storage.head();
      if (stored && stored.size > this.#head.size) this.#head = stored;
    };
    const current = this.#reading;
    const next = (current ? current.catch(() => {}) : Promise.resolve()).then(() => {
      if (this.#queuedRead === next) this.#queuedRead = undefined;
      const r = read();
      this.#reading = r;
      return r.finally(() => {
        if (this.#reading === r) this.#reading = undefined;
      });
    });
    this.#queuedRead = next;
    return next;
  }

  /** Sends what waits to the sequencer, a batch at a time (appends of one event-loop turn travel together). */
  #scheduleForward(): void {
    if (this.#forwardScheduled || this.#forwarding >= FORWARDS_IN_FLIGHT || this.#toForward.length === 0)
      return;
    this.#forwardScheduled = true;
    setImmediate(() => {
      this.#forwardScheduled = false;
      if (this.#forwarding >= FORWARDS_IN_FLIGHT) return;
      const batch = this.#toForward.splice(0, FORWARD_BATCH_MAX);
      if (batch.length === 0) return;
      this.#forwarding++;
      void this.#forwardBatch(batch).finally(() => {
        this.#forwarding--;
        this.#scheduleForward();
      });
    });
  }

  async #forwardBatch(batch: Pending[]): Promise<void> {
    const url = this.#sequencerSeen;
    const forward = this.#forward;
    if (!url || !forward) {
      for (const p of batch) p.reject(new NotSequencerError(url));
      return;
    }
    const appends: ForwardedAppend[] = batch.map(({ input }) => {
      const leaf = Buffer.from(input.leaf as Uint8Array);
      const hash = input.leafHash?.length === 32 ? Buffer.from(input.leafHash) : undefined;
      const identity = input.identity ? Buffer.from(input.identity) : (hash ?? leafHash(leaf));
      return { leaf, identity, leafHash: hash, terms: input.terms ?? [] };
    });
    let answer: Awaited<ReturnType<AppendForwarder>>;
    try {
      answer = await forward(url, appends);
    } catch (err) {
      // The sequencer is gone or deposed: the next campaign tick learns who sequences now.
      this.#sequencerSeen = undefined;
      const refusal = new StorageUnavailableError(
        `the log's sequencer at ${url} did not take the entries (${(err as Error).message}); retry shortly`,
      );
      for (const p of batch) p.reject(refusal);
      return;
    }
    const head = headFromAnswer(answer.head);
    if (head.size > this.#head.size) this.#head = head;
    batch.forEach((p, i) => {
      const r = answer.results[i];
      if (!r || 'error' in r) {
        const message = r?.error ?? 'the sequencer gave no answer for this entry';
        p.reject(r?.status === 503 ? new StorageUnavailableError(message) : new Error(message));
        return;
      }
      const result = { index: r.index, timestamp: r.timestamp, leafHash: Buffer.from(r.leafHash, 'base64') };
      // Kept for the answer's rendering, which asks for exactly this proof right away (bounded all the same).
      if (this.#forwardedProofs.size >= FORWARD_BATCH_MAX * FORWARDS_IN_FLIGHT * 2)
        this.#forwardedProofs.clear();
      this.#forwardedProofs.set(
        `${r.index}/${head.size}`,
        r.proof.map((h) => Buffer.from(h, 'base64')),
      );
      if (!r.duplicate) {
        try {
          p.input.onSequenced?.({ index: r.index, timestamp: r.timestamp });
        } catch (err) {
          this.#onError(err);
        }
      }
      p.resolve({ ...result, duplicate: r.duplicate, head: r.duplicate ? this.#head : head });
    });
  }

  async freshHead(): Promise<TreeHead> {
    await this.#refreshHead();
    return this.#head;
  }

  /** On a follower, a size beyond the head it knows may have been committed since: read the head first. */
  async #knowSize(size: number): Promise<void> {
    if (size > this.#head.size && !this.#sequencer) await this.#refreshHead();
  }

  /** Loads the committed head and rebuilds the right edge from the stored tiles; signs an empty head if new. */
  async load(): Promise<void> {
    const stored = await this.#storage.head();
    if (!stored) {
      const timestamp = this.#now();
      const head = await this.#signHead(0, EMPTY_ROOT, timestamp);
      await this.#storage.commit({ entries: [], terms: [], tiles: [], head });
      this.#head = head;
      this.#range = CompactRange.empty();
      this.#edge = [[]];
      this.#lastTimestamp = timestamp;
      return;
    }
    const size = stored.size;
    const edge: Buffer[][] = [];
    for (let level = 0; TILE_WIDTH ** level <= Math.max(size, 1); level++) {
      const width = partialTileWidth(size, level);
      const index = Math.floor(size / TILE_WIDTH ** (level + 1));
      const [data] = width > 0 ? await this.#storage.readTiles([{ level, index }]) : [undefined];
      if (width > 0 && (!data || data.length < width * 32)) {
        throw new Error(`log storage is corrupt: tile ${level}/${index} is missing hashes for size ${size}`);
      }
      const hashes: Buffer[] = [];
      for (let i = 0; i < width; i++)
        hashes.push(Buffer.from((data as Buffer).subarray(i * 32, (i + 1) * 32)));
      edge.push(hashes);
    }
    this.#head = stored;
    this.#edge = edge;
    const nodes = compactSubtrees(size);
    this.#range = CompactRange.fromSubtrees(size, await this.#subtreeHashes(nodes));
    if (!this.#range.root().equals(stored.root)) {
      throw new Error(`log storage is corrupt: tiles do not hash to the stored root at size ${size}`);
    }
    this.#lastTimestamp = stored.timestamp;
  }

  head(): TreeHead {
    return this.#head;
  }

  append(input: AppendInput): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error('log is closed'));
    if (!this.#sequencer) {
      if (!this.#forward || !this.#sequencerSeen || typeof input.leaf === 'function')
        return Promise.reject(new NotSequencerError(this.#sequencerSeen));
      return new Promise((resolve, reject) => {
        this.#toForward.push({ input, resolve, reject, queuedAt: performance.now() });
        this.#scheduleForward();
      });
    }
    if (typeof input.leaf === 'function' && !input.identity) {
      return Promise.reject(new Error('an append with a leaf builder needs an identity'));
    }
    if (typeof input.leaf !== 'function' && input.leaf.length > MAX_LEAF_SIZE) {
      return Promise.reject(
        new RangeError(`leaf is ${input.leaf.length} bytes; the limit is ${MAX_LEAF_SIZE}`),
      );
    }
    return new Promise((resolve, reject) => {
      this.#pending.push({ input, resolve, reject, queuedAt: performance.now() });
      this.#schedule();
    });
  }

  #schedule(): void {
    // The running flush picks up what is queued when it ends; a full pipeline resumes when a commit lands; a
    // broken one once it has been rebuilt.
    if (
      this.#flushing ||
      this.#inFlight >= MAX_BATCHES_IN_FLIGHT ||
      this.#broken !== undefined ||
      !this.#sequencer
    )
      return;
    if (this.#pending.length >= this.#maxBatch) {
      clearTimeout(this.#timer);
      clearImmediate(this.#immediate);
      this.#timer = undefined;
      this.#immediate = undefined;
      this.#flushing = this.#flush();
    } else if (!this.#immediate && this.#pending.length > 0) {
      // The oldest queued append decides: entries that arrived during the previous commit do not wait again.
      const age = this.#inFlight >= BUSY_IN_FLIGHT ? this.#busyAge : this.#maxAge;
      const due = this.#pending[0].queuedAt + age;
      // A timer set while the pipeline was busy is brought forward once it is not.
      if (this.#timer) {
        if (this.#timerDue <= due) return;
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
      const run = () => {
        this.#timer = undefined;
        this.#immediate = undefined;
        if (!this.#flushing) this.#flushing = this.#flush();
      };
      const wait = due - performance.now();
      // No wait left: still let this turn of the event loop finish, so appends arriving together share a batch.
      if (wait <= 0) this.#immediate = setImmediate(run);
      else {
        this.#timerDue = due;
        this.#timer = setTimeout(run, wait);
      }
    }
  }

  async #flush(): Promise<void> {
    try {
      while (
        this.#pending.length > 0 &&
        this.#inFlight < MAX_BATCHES_IN_FLIGHT &&
        this.#broken === undefined
      ) {
        const batch = this.#pending.splice(0, this.#maxBatch);
        await this.#sequence(batch);
        // A partly filled queue waits out its max age unless it is already full (or the log is closing).
        if (this.#pending.length < this.#maxBatch && !this.#closed) break;
      }
    } finally {
      this.#flushing = undefined;
      this.#schedule();
    }
  }

  /**
   * Sequences a batch: indices, timestamp, dedup, the new right edge and root, all in memory and in order; then
   * starts its checkpoint signature and commit (#land) without waiting for them, so that the next batch can be
   * sequenced while this one is signed and fsynced. Commits are issued strictly in order and storage refuses a
   * batch that does not start at its stored head, so a failed batch also fails every batch issued after it.
   */
  async #sequence(batch: Pending[]): Promise<void> {
    const timestamp = Math.max(this.#now(), this.#lastTimestamp);
    const startSize = this.#range.size;
    const entries: StoredEntry[] = [];
    const terms: { term: string; index: number }[] = [];
    const touched = new Map<string, TileKey>();
    const full: TileWrite[] = [];
    const flight: Flight = { results: [], waiters: [], ids: [] };
    const inBatch = new Map<string, Omit<AppendResult, 'head'>>();
    // Dedup, first in memory (nothing is awaited here, so no batch lands meanwhile): an identity in a batch still
    // committing is answered when that batch lands. Every other identity is looked up in storage, all of the
    // batch's at once; one that was not in a committing batch now cannot land during that lookup either.
    const todo: { p: Pending; identity: Buffer; idKey: string }[] = [];
    for (const p of batch) {
      try {
        const given = typeof p.input.leaf === 'function' ? undefined : p.input.leaf;
        const identity = Buffer.from(p.input.identity ?? leafHash(given as Uint8Array));
        const idKey = identity.toString('base64');
        const earlier = this.#uncommitted.get(idKey);
        if (earlier) earlier.flight.waiters.push({ p, result: { ...earlier.result, duplicate: true } });
        else todo.push({ p, identity, idKey });
      } catch (err) {
        p.reject(err);
      }
    }
    const lookup = new Map<string, Buffer>();
    for (const t of todo) lookup.set(t.idKey, t.identity);
    const stored = new Map<string, number>();
    if (lookup.size > 0) {
      const found = await this.#storage.findIdentities([...lookup.values()]);
      [...lookup.keys()].forEach((k, i) => {
        if (found[i] !== undefined) stored.set(k, found[i]);
      });
    }
    for (const { p, identity, idKey } of todo) {
      const { input } = p;
      let position: SequencedPosition;
      try {
        const given = typeof input.leaf === 'function' ? undefined : input.leaf;
        const same = inBatch.get(idKey);
        if (same) {
          flight.results.push({ p, result: { ...same, duplicate: true } });
          continue;
        }
        const existing = stored.get(idKey);
        if (existing !== undefined) {
          const [e] = await this.#storage.readEntries(existing, existing + 1);
          p.resolve({
            index: e.index,
            timestamp: e.timestamp,
            leafHash: leafHash(e.data),
            duplicate: true,
            head: this.#head,
          });
          continue;
        }
        const index = startSize + entries.length;
        const data = Buffer.from(
          typeof input.leaf === 'function' ? input.leaf({ index, timestamp }) : (given as Uint8Array),
        );
        if (data.length > MAX_LEAF_SIZE)
          throw new RangeError(`leaf is ${data.length} bytes; the limit is ${MAX_LEAF_SIZE}`);
        // Nothing below throws: the entry is now part of the batch.
        // Without an identity of its own the entry's identity is its leaf hash, already computed above.
        const hash =
          given && input.leafHash?.length === 32
            ? Buffer.from(input.leafHash)
            : input.identity
              ? leafHash(data)
              : identity;
        this.#appendHash(index, hash, touched, full);
        entries.push({ index, timestamp, data, identity });
        for (const term of input.terms ?? []) terms.push({ term, index });
        const result = { index, timestamp, leafHash: hash, duplicate: false };
        inBatch.set(idKey, result);
        flight.results.push({ p, result });
        flight.ids.push(idKey);
        this.#uncommitted.set(idKey, { flight, result });
        position = { index, timestamp };
      } catch (err) {
        // This entry only (its leaf could not be built or read back); the batch goes on without it.
        p.reject(err);
        continue;
      }
      try {
        input.onSequenced?.(position);
      } catch (err) {
        this.#onError(err);
      }
    }
    if (entries.length === 0) return;
    const tiles = [...full];
    for (const key of touched.values()) {
      const hashes = this.#edge[key.level];
      if (hashes.length > 0) tiles.push({ ...key, data: Buffer.concat(hashes) });
    }
    this.#lastTimestamp = timestamp;
    this.#inFlight++;
    void this.#land(flight, { entries, terms, tiles }, this.#range.size, this.#range.root(), timestamp);
  }

  /** Signs a sequenced batch's checkpoint, commits it after the batches before it, then answers its appends. */
  async #land(
    flight: Flight,
    batch: Omit<BatchWrite, 'head'>,
    size: number,
    root: Buffer,
    timestamp: number,
  ): Promise<void> {
    const before = this.#issued;
    let issued!: () => void;
    this.#issued = new Promise((r) => {
      issued = r;
    });
    try {
      const head = await this.#signHead(size, root, timestamp);
      await before;
      if (this.#broken !== undefined) throw this.#broken;
      const committing = this.#storage.commit({ ...batch, head });
      issued();
      await committing;
      for (const t of batch.tiles) this.#tiles.put(t, t.data);
      this.#head = head;
      for (const r of [...flight.results, ...flight.waiters]) r.p.resolve({ ...r.result, head });
    } catch (err) {
      issued();
      // Nothing of this batch is committed: reject it; the working state is rebuilt once nothing is in flight.
      for (const r of [...flight.results, ...flight.waiters]) r.p.reject(err);
      this.#fail(err);
    } finally {
      for (const id of flight.ids) this.#uncommitted.delete(id);
      this.#inFlight--;
      if (this.#inFlight === 0) for (const f of this.#settled.splice(0)) f();
      await this.#recoverWhenIdle();
      this.#schedule();
    }
  }

  #fail(err: unknown): void {
    if (this.#broken === undefined) {
      this.#broken = err;
      this.#onError(err);
    }
    void this.#recoverWhenIdle().then(() => this.#schedule());
  }

  /** After a failure, once no batch is in flight: rebuild the working state from what storage committed. */
  async #recoverWhenIdle(): Promise<void> {
    if (this.#broken === undefined || this.#inFlight > 0 || this.#recovering || !this.#sequencer) return;
    this.#recovering = true;
    try {
      this.#tiles.clear();
      this.#ranges.clear();
      this.#uncommitted.clear();
      await this.load();
      this.#broken = undefined;
    } catch (err) {
      // Storage cannot be read back (a database restarting): what waits is refused (a 503 to its client), and
      // the state is reloaded again shortly; appends queue meanwhile.
      this.#onError(err);
      for (const p of this.#pending.splice(0)) p.reject(err);
      if (!this.#closed) {
        clearTimeout(this.#recoverTimer);
        this.#recoverTimer = setTimeout(
          () => void this.#recoverWhenIdle().then(() => this.#schedule()),
          RECOVER_RETRY_MS,
        );
        this.#recoverTimer.unref();
      }
    } finally {
      this.#recovering = false;
    }
  }

  /** Adds a leaf hash to the right edge, cascading full tiles into the level above. */
  #appendHash(index: number, hash: Buffer, touched: Map<string, TileKey>, full: TileWrite[]): void {
    this.#range.append(hash);
    let h = hash;
    let position = index;
    for (let level = 0; ; level++) {
      if (!this.#edge[level]) this.#edge[level] = [];
      const row = this.#edge[level];
      row.push(h);
      const tileIndex = Math.floor(position / TILE_WIDTH);
      touched.set(`${level}/${tileIndex}`, { level, index: tileIndex });
      if (row.length < TILE_WIDTH) break;
      full.push({ level, index: tileIndex, data: Buffer.concat(row) });
      touched.delete(`${level}/${tileIndex}`);
      h = tileRoot(row);
      this.#edge[level] = [];
      position = tileIndex;
    }
  }

  async #signHead(size: number, root: Buffer, timestamp: number): Promise<TreeHead> {
    const text = formatCheckpoint({ origin: this.origin, size, rootHash: root });
    const signatures = await Promise.all(
      this.#signers.map(async (s) => ({
        name: s.name,
        keyId: s.keyId,
        signature: await s.sign(text, { size, root, timestamp }),
      })),
    );
    return { size, root, timestamp, checkpoint: formatSignedNote({ text, signatures }) };
  }

  /** Hashes of complete subtrees, read from (cached) tiles of the committed tree. */
  async #subtreeHashes(nodes: SubtreeNode[]): Promise<Buffer[]> {
    const located = nodes.map(locateSubtree);
    const missing = new Map<string, TileKey>();
    for (const l of located) {
      // A cached partial tile may be older than the tree asked about (a follower's): read it again then.
      if (!this.#tiles.get(l.tile)?.node(l.subLevel, l.offset))
        missing.set(`${l.tile.level}/${l.tile.index}`, l.tile);
    }
    if (missing.size > 0) {
      const keys = [...missing.values()];
      const data = await this.#storage.readTiles(keys);
      keys.forEach((k, i) => {
        const d = data[i];
        if (d) this.#tiles.put(k, d);
      });
    }
    return located.map((l, i) => {
      const h = this.#tiles.get(l.tile)?.node(l.subLevel, l.offset);
      if (!h) throw new Error(`hash of subtree ${nodes[i].level}/${nodes[i].index} is not stored`);
      return h;
    });
  }

  /**
   * MTH of each committed leaf range. A range's hash never changes once its leaves are committed (the log only
   * grows), so recent ones are memoised: the proofs of a batch's entries share most of their ranges, and the
   * ragged ones at the right edge cost several hashes each to rebuild.
   */
  async #rangeHashes(ranges: LeafRange[]): Promise<Buffer[]> {
    const out: (Buffer | undefined)[] = ranges.map((r) => this.#ranges.get(`${r.start}-${r.end}`));
    const missing = ranges.filter((_, i) => !out[i]);
    if (missing.length === 0) return out as Buffer[];
    const perRange = missing.map(rangeSubtrees);
    const hashes = await this.#subtreeHashes(perRange.flat());
    let at = 0;
    let m = 0;
    return ranges.map((r, i) => {
      const known = out[i];
      if (known) return known;
      const nodes = perRange[m++];
      const h = hashFromSubtrees(hashes.slice(at, at + nodes.length));
      at += nodes.length;
      this.#ranges.set(`${r.start}-${r.end}`, h);
      return h;
    });
  }

  async #checkSize(size: number): Promise<void> {
    await this.#knowSize(size);
    if (!Number.isSafeInteger(size) || size < 0 || size > this.#head.size) {
      throw new RangeError(`tree size ${size} is beyond the current size ${this.#head.size}`);
    }
  }

  async inclusionProof(index: number, size = this.#head.size): Promise<Buffer[]> {
    const forwarded = this.#forwardedProofs.get(`${index}/${size}`);
    if (forwarded) {
      this.#forwardedProofs.delete(`${index}/${size}`);
      return forwarded;
    }
    await this.#checkSize(size);
    // Most of a path is complete subtrees, read straight out of cached tiles; what is not cached, and the one
    // ragged range at the right edge (shared by a batch's proofs, so memoised), goes through #rangeHashes.
    const path = inclusionPath(index, size);
    const out: Buffer[] = new Array(path.length);
    const missing: number[] = [];
    for (let i = 0; i < path.length; i++) {
      const p = path[i];
      const h = 'level' in p ? this.#tiles.node(p.level, p.index) : undefined;
      if (h) out[i] = h;
      else missing.push(i);
    }
    if (missing.length > 0) {
      const hashes = await this.#rangeHashes(missing.map((i) => nodeRange(path[i])));
      missing.forEach((at, k) => {
        out[at] = hashes[k];
      });
    }
    return out;
  }

  async consistencyProof(first: number, second = this.#head.size): Promise<Buffer[]> {
    await this.#checkSize(second);
    return this.#rangeHashes(consistencyRanges(first, second));
  }

  async rootAt(size: number): Promise<Buffer> {
    await this.#checkSize(size);
    if (size === this.#head.size) return this.#head.root;
    if (size === 0) return EMPTY_ROOT;
    return hashFromSubtrees(await this.#subtreeHashes(compactSubtrees(size)));
  }

  async entries(start: number, end: number): Promise<StoredEntry[]> {
    await this.#knowSize(end);
    const to = Math.min(end, this.#head.size);
    if (!(start < to)) return [];
    return this.#storage.readEntries(start, to);
  }

  async entry(index: number): Promise<StoredEntry | undefined> {
    if (Number.isSafeInteger(index)) await this.#knowSize(index + 1);
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#head.size) return undefined;
    return (await this.#storage.readEntries(index, index + 1))[0];
  }

  async findByIdentity(identity: Uint8Array): Promise<number | undefined> {
    return (await this.#storage.findIdentities([identity]))[0];
  }

  findByTerm(term: string, limit = 1000): Promise<number[]> {
    return this.#storage.findTerm(term, limit);
  }

  /** Width the tile (level, index) has at the current head: 256 if full, 0 if it does not exist yet. */
  #tileWidthNow(level: number, index: number): number {
    const below = Math.floor(this.#head.size / TILE_WIDTH ** level);
    const start = index * TILE_WIDTH;
    return Math.max(0, Math.min(TILE_WIDTH, below - start));
  }

  async tile(level: number, index: number, width?: number): Promise<Buffer | undefined> {
    const want = width ?? TILE_WIDTH;
    if (want > this.#tileWidthNow(level, index)) await this.#knowSize(this.#head.size + 1);
    if (want > this.#tileWidthNow(level, index)) return undefined;
    const cached = this.#tiles.get({ level, index });
    const data =
      cached && cached.data.length >= want * 32
        ? cached.data
        : (await this.#storage.readTiles([{ level, index }]))[0];
    if (!data || data.length < want * 32) return undefined;
    return data.subarray(0, want * 32);
  }

  async entryBundle(index: number, width?: number): Promise<Buffer | undefined> {
    const want = width ?? TILE_WIDTH;
    if (want > this.#tileWidthNow(0, index)) await this.#knowSize(this.#head.size + 1);
    if (want > this.#tileWidthNow(0, index)) return undefined;
    const entries = await this.#storage.readEntries(index * TILE_WIDTH, index * TILE_WIDTH + want);
    const parts: Buffer[] = [];
    for (const e of entries) {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(e.data.length);
      parts.push(len, e.data);
    }
    return Buffer.concat(parts);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#recoverTimer);
    this.#unwatch?.();
    clearTimeout(this.#timer);
    clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
    while (this.#flushing || this.#pending.length > 0 || this.#inFlight > 0) {
      if (this.#inFlight > 0) await new Promise<void>((r) => this.#settled.push(r));
      else if (!this.#flushing) this.#flushing = this.#flush();
      if (this.#flushing) await this.#flushing;
    }
    await this.#storage.close();
  }
}
