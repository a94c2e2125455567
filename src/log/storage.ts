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
  /** Write-once settings of the log (tree ID, origin). */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
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
}

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
