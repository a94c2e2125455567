// Public interface of formats/: one typed module per wire format, each citing its spec at the top.
// Keep one export block per module.

// bundle: sigstore/protobuf-specs sigstore_bundle.proto
export * from './bundle.js';
// checkpoint / signed note: C2SP tlog-checkpoint.md, signed-note.md; tiles: C2SP tlog-tiles.md
export { type Checkpoint, formatCheckpoint, parseCheckpoint } from './checkpoint.js';
// cosign-bundle: cosign's Rekor bundle annotation and pre-Sigstore-bundle blob bundle files
export { parseAnyBundle, tlogEntryFromRekorBundle } from './cosign-bundle.js';
// der: ITU-T X.690 (the one DER reader, with every strict-DER rule, and writer)
export {
  bitString,
  boolean,
  children,
  DerError,
  expectTag,
  explicit,
  ia5,
  implicit,
  inside,
  isOid,
  lengthSize,
  Node,
  NULL,
  octetString,
  oid,
  parseDer,
  printable,
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
// dsse-envelope: secure-systems-lab/dsse envelope.md, protocol.md
export * from './dsse-envelope.js';
// oci-media-types: opencontainers/image-spec descriptor.md, manifest.md, image-index.md
export * from './oci-media-types.js';
// sct: RFC 6962 §3.2-3.3
export * from './sct.js';
export {
  EM_DASH,
  formatSignedNote,
  isValidKeyName,
  type NoteSignature,
  parseSignedNote,
  type SignedNote,
} from './signed-note.js';
// simple-signing: sigstore/cosign specs/SIGNATURE_SPEC.md
export * from './simple-signing.js';
export {
  encodeTileIndex,
  parseTilePath,
  partialTileWidth,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileRef,
  tileCount,
  tilePath,
} from './tiles.js';
// tuf: theupdateframework/specification tuf-spec.md §4 (metadata formats), §6.2 (consistent snapshots)
export * from './tuf.js';
// x509: RFC 5280
export * from './x509.js';
