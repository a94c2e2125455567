// Public interface of log/: the generic Merkle log engine (also used by the CT log) and its storage contract (the
// backends are in src/storage/).

export {
  createLogService,
  ENTRY_BODY_LIMIT,
  LOG_DIR,
  LOG_KEY_FILE,
  readLogKey,
  registerLogRoutes,
  TILES_PREFIX,
} from './http.js';
export {
  type AppendInput,
  type AppendResult,
  DEFAULT_BATCH_MAX_AGE_MS,
  DEFAULT_BATCH_MAX_SIZE,
  MAX_LEAF_SIZE,
  type MerkleLog,
  type MerkleLogOptions,
  openMerkleLog,
  type SequencedPosition,
} from './merkle-log.js';
export { ed25519NoteKeyHash, ed25519NoteSigner, type NoteSigner, rekorNoteSigner } from './note-signer.js';
export { openRekorLog, type RekorLog, type RekorLogOptions } from './rekor/rekor-log.js';
export {
  DuplicateEntryError,
  openRekorV2Log,
  type RekorV2Log,
  type RekorV2LogOptions,
} from './rekor/v2-log.js';
export type {
  BatchWrite,
  LogStorage,
  LogStorageChoice,
  OpenLogStorage,
  SequencerElection,
  StoredEntry,
  TileKey,
  TileWrite,
  TreeHead,
} from './storage.js';
export { StorageUnavailableError } from './storage.js';
export {
  createRekorV2Service,
  LOG_V2_DIR,
  REKOR_V2_PREFIX,
  type RekorV2LogInfo,
  readRekorV2LogInfo,
  registerRekorV2Routes,
} from './v2-http.js';
