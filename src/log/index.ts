// Public interface of log/: the generic Merkle log engine (also used by the CT log) and its storage contract (the
// backends are in src/storage/).

export { createLogService, ENTRY_BODY_LIMIT, LOG_DIR, LOG_KEY_FILE, readLogKey } from './http.js';
export { type MerkleLog, openMerkleLog } from './merkle-log.js';
export { type NoteSigner, rekorNoteSigner } from './note-signer.js';
export { openRekorLog } from './rekor/rekor-log.js';
export type {
  BatchWrite,
  LogStorage,
  LogStorageChoice,
  OpenLogStorage,
  SequencerElection,
  StoredEntry,
  TileKey,
  TreeHead,
} from './storage.js';
export { StorageUnavailableError } from './storage.js';
export { createRekorV2Service, readRekorV2LogInfo } from './v2-http.js';
