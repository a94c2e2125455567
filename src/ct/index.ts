// Public interface of ct/: the RFC 6962 certificate transparency log the CA logs precertificates to, its
// SCT encoding, and the small DER codec the CA shares to build certificates synchronously.
export {
  bitString,
  boolean,
  children,
  DerError,
  expectTag,
  explicit,
  ia5,
  implicit,
  type Node as DerNode,
  NULL,
  octetString,
  oid,
  parseDer,
  printable,
  readBitString,
  readNode,
  readOid,
  seq,
  set,
  smallInteger,
  TAG,
  time,
  tlv,
  unsignedInteger,
  utf8,
} from './der.js';
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
  isPrecertificate,
  issuerKeyHash,
  type ParsedCertificate,
  parseCertificate,
  publicKeyOf,
  signedBy,
  tbsWithoutPoison,
} from './precert.js';
export {
  OID_CT_POISON,
  OID_SCT_LIST,
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
