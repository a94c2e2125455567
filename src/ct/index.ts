// Public interface of ct/: the RFC 6962 certificate transparency log the CA logs precertificates to, and its
// SCT encoding. Certificates are read and written with formats/ (der.ts, x509.ts).
export { MAX_ENTRIES_PER_GET, registerCtRoutes } from './http.js';
export {
  type CtEntry,
  CtError,
  CtLog,
  type LoggedSct,
  type PrecertSubmission,
  precertLeaf,
  recordLeaf,
  SctSigner,
} from './log.js';
export {
  precertSignedData,
  type Sct,
  sctListExtensionValue,
  sctToJson,
  serializeSct,
} from './sct.js';
export { spawnModuleWorker } from './spawn-worker.js';
export { type CtEntryStore, openFileEntryStore } from './store.js';
export { CtTree, MAX_MERGE_DELAY_SECONDS, type SignedTreeHead, treeHeadSignedData } from './tree.js';
export { InlineTree, type TreeBackend, type TreeHeadInfo } from './tree-backend.js';
export { ThreadTree } from './tree-thread.js';
