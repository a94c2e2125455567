// Public interface of ct/: the RFC 6962 certificate transparency log the CA logs precertificates to. SCTs and
// certificates are read and written with formats/ (sct.ts, der.ts, x509.ts).
export { CT_PATH_PREFIX, ctService, MAX_ENTRIES_PER_GET, registerCtRoutes } from './http.js';
export {
  type CtEntry,
  CtError,
  CtLog,
  type LoggedSct,
  precertLeaf,
  recordLeaf,
  SctSigner,
} from './log.js';
export { type CtEntryStore, openFileEntryStore } from './store.js';
export { CtTree, type SignedTreeHead, treeHeadSignedData } from './tree.js';
export { InlineTree, type TreeBackend, type TreeHeadInfo } from './tree-backend.js';
export { ThreadTree } from './tree-thread.js';
export { CT_WORKER_SCT_MODULE, openSctSource, type WorkerSctInit } from './worker-sct.js';
