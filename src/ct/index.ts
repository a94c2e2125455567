// Public interface of ct/: the RFC 6962 certificate transparency log the CA logs precertificates to. SCTs and
// certificates are read and written with formats/ (sct.ts, der.ts, x509.ts).
export { CT_PATH_PREFIX, ctService } from './http.js';
export { CtLog, precertLeaf, recordLeaf, SctSigner } from './log.js';
export { type CtEntryStore, openFileEntryStore } from './store.js';
export { CtTree, treeHeadSignedData } from './tree.js';
export { InlineTree } from './tree-backend.js';
export { CT_WORKER_SCT_MODULE, type WorkerSctInit } from './worker-sct.js';
