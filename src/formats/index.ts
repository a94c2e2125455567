// Public interface of formats/: one typed module per wire format, each citing its spec at the top.
// Keep one export block per module.

// bundle: sigstore/protobuf-specs sigstore_bundle.proto
export * from './bundle.js';
// checkpoint / signed note: C2SP tlog-checkpoint.md, signed-note.md
export {
  formatCheckpoint,
  formatSignedNote,
  isValidKeyName,
  type NoteSignature,
  parseCheckpoint,
  parseSignedNote,
} from './checkpoint.js';
// cosign-annotations: sigstore/cosign specs/SIGNATURE_SPEC.md (the registry layout of signatures)
export * from './cosign-annotations.js';
// cosign-bundle: cosign's Rekor bundle annotation and pre-Sigstore-bundle blob bundle files
export { cosignRekorBundle, parseAnyBundle, tlogEntryFromRekorBundle } from './cosign-bundle.js';
// ct-tree: RFC 6962 §3.4-3.5 (MerkleTreeLeaf, TreeHeadSignature)
export * from './ct-tree.js';
// der: ITU-T X.690 (the one DER reader, with every strict-DER rule, and writer)
export {
  bitString,
  boolean,
  children,
  DerError,
  expectTag,
  explicit,
  implicit,
  isOid,
  lengthSize,
  Node,
  NULL,
  octetString,
  oid,
  parseDer,
  readBitString,
  readBits,
  readBoolean,
  readIntegerBytes,
  readNode,
  readOid,
  readPositiveInteger,
  readSmallInt,
  readTime,
  seq,
  set,
  smallInteger,
  TAG,
  time,
  tlv,
  unsignedInteger,
  utf8,
  writeHeader,
} from './der.js';
// Rekor v1 entries: sigstore/rekor openapi.yaml and pkg/types (hashedrekord, dsse, intoto): the client's proposals
// and the log's parsers and canonical bodies
export {
  DSSE_KIND,
  DSSE_V001,
  dsseProposal,
  dsseV001Body,
  inTotoDigests,
  pae,
  parseDsseV001,
} from './dsse.js';
// dsse-envelope: secure-systems-lab/dsse envelope.md, protocol.md
export * from './dsse-envelope.js';
export {
  HASHEDREKORD_KIND,
  HASHEDREKORD_V001,
  hashedRekordProposal,
  hashedRekordV001Body,
  parseHashedRekordV001,
} from './hashedrekord.js';
export { INTOTO_KIND, INTOTO_V002, intotoV002Body, parseIntotoV002 } from './intoto.js';
// oci-media-types: opencontainers/image-spec descriptor.md, manifest.md, image-index.md
export * from './oci-media-types.js';
export {
  entryBody,
  entryId,
  expectArray,
  expectObject,
  expectString,
  FormatError,
  type LogEntryJson,
  logEntryResponse,
  type ProposedEntry,
  parseEntryUuid,
  parseProposedEntry,
  type RekorLogEntry,
  type RekorLogInfo,
  toBundleTlogEntry,
} from './rekor-entry.js';
// rekor-v2: sigstore/rekor-tiles api/proto/rekor/v2 (CreateEntryRequest, Entry), protobuf-specs PublicKeyDetails
export * from './rekor-v2.js';
// rfc3161: RFC 3161 §2.4 (TimeStampReq / TimeStampResp), RFC 5652 §5 (SignedData), RFC 5816 (ESSCertIDv2)
export {
  checkedRequest as checkTimestampRequest,
  encodeSignedAttributes,
  encodeTimestampRejection,
  encodeTimestampRequest,
  encodeTimestampResponse,
  encodeTstInfo,
  OID_TIME_STAMPING,
  parseTimestampRequest,
  parseTimestampResponse,
  TIMESTAMP_HASHES,
  type TimestampHash,
  type TimestampRequest,
  TimestampRequestError,
  type TsaCertificate,
} from './rfc3161.js';
// sct: RFC 6962 §3.2-3.3
export * from './sct.js';
// set-payload: Rekor v1's signed entry timestamp (sigstore/rekor pkg/api/entries.go)
export { type SetPayload, setPayloadText } from './set-payload.js';
// simple-signing: sigstore/cosign specs/SIGNATURE_SPEC.md
export * from './simple-signing.js';
// tiles: C2SP tlog-tiles.md
export { parseTilePath, partialTileWidth, TILE_HEIGHT, TILE_WIDTH, tilePath } from './tiles.js';
// tuf: theupdateframework/specification tuf-spec.md §4 (metadata formats), §6.2 (consistent snapshots)
export * from './tuf.js';
// x509: RFC 5280
export * from './x509.js';
