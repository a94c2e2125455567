// The storage contract of the Merkle log engine (tessera's storage/<backend>/ model): backends live in
// src/storage/<backend>/ (SQLite: storage/sqlite/log/), and server/ chooses one and passes it in. All methods may be asynchronous; commit() resolves only once the batch is durable
// (it is the group commit: one fsync per batch), and it must be atomic: a crash leaves the old or the new head.

export interface StoredEntry {
  index: number;
  /** Milliseconds since the epoch when the entry was sequenced. */
  timestamp: number;
  /** The leaf input D[index] (hashed as an RFC 6962 leaf). */
  data: Buffer;
  /** The dedup key the entry was appended with. */
  identity: Buffer;
}

/** The committed tree head: size, RFC 6962 root, and the signed checkpoint (signed note) for it. */
export interface TreeHead {
  size: number;
  root: Buffer;
  /** Milliseconds since the epoch when this head was produced. */
  timestamp: number;
  checkpoint: string;
}

export interface TileKey {
  level: number;
  index: number;
}

export interface TileWrite extends TileKey {
  /** The tile's hashes so far (32 bytes each); a later write of the same tile only ever extends it. */
  data: Buffer;
}

export interface BatchWrite {
  /** Consecutive entries starting at the previous head's size. */
  entries: StoredEntry[];
  /** Lookup keys (search terms) for the new entries. */
  terms: { term: string; index: number }[];
  tiles: TileWrite[];
  head: TreeHead;
}

export interface LogStorage {
  /**
   * A write-once setting of the log (tree ID, origin): stores `value` unless the key already has one, and returns
   * the stored value (so processes opening a shared store together agree on it).
   */
  initMeta(key: string, value: string): Promise<string>;
  head(): Promise<TreeHead | undefined>;
  /**
   * Commits batches in the order called (the engine calls again before the previous commit resolved), and fails
   * a batch that does not extend the stored head: head.size − entries.length must equal the stored size.
   */
  commit(batch: BatchWrite): Promise<void>;
  /** The stored version of each tile (possibly partial), or undefined where there is none. */
  readTiles(keys: TileKey[]): Promise<(Buffer | undefined)[]>;
  /** Entries with start ≤ index < end that exist. */
  readEntries(start: number, end: number): Promise<StoredEntry[]>;
  /**
   * For each identity, the index of the entry appended with it, if any. The engine asks for a whole batch's at
   * once (one round trip for a remote store).
   */
  findIdentities(identities: Uint8Array[]): Promise<(number | undefined)[]>;
  /** Indices of entries indexed under this term, ascending, at most `limit`. */
  findTerm(term: string, limit: number): Promise<number[]>;
  close(): Promise<void>;
  /** Present on a store several processes share (PostgreSQL): how they agree on the one that sequences. */
  readonly election?: SequencerElection;
}

/**
 * Electing the one process that extends a shared log (docs/design/scale-out.md). The lease is tied to the
 * holder's database session, so it ends when the process dies or loses the database; on top of it the stored
 * head fences every commit (LogStorage.commit refuses a batch that does not extend the stored head), so a
 * deposed sequencer can never fork the tree, only fail its batch.
 */
export interface SequencerElection {
  /**
   * Takes the sequencer lease if no live process holds it, recording `url` as where appends go; true when this
   * process holds it now. `lost` is called once if the lease ends while held.
   */
  tryLead(url: string, lost: (err: unknown) => void): Promise<boolean>;
  /** The URL the current holder recorded, if any process has ever held the lease. */
  sequencerUrl(): Promise<string | undefined>;
  /** Calls `changed` soon after another process commits a head (best effort; the engine polls too). */
  watchHead(changed: () => void): () => void;
}

/** The store cannot be reached (a database restarting): the request may be retried (HTTP 503). */
export class StorageUnavailableError extends Error {}

/** Opens a log's storage in a directory, on the backend server/ chose. */
export type OpenLogStorage = (dir: string) => LogStorage;

/**
 * The same backend for a thread that opens its storage itself (the CT tree's thread): threads share no functions,
 * so it is the URL of a module exporting `openLogStorage: OpenLogStorage`.
 */
export interface LogStorageChoice {
  open: OpenLogStorage;
  module: string;
}
