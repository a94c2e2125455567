// Public interface of formats/: one typed module per wire format, each citing its spec at the top.
export { type Checkpoint, formatCheckpoint, parseCheckpoint } from './checkpoint.js';
export {
  EM_DASH,
  formatSignedNote,
  isValidKeyName,
  type NoteSignature,
  parseSignedNote,
  type SignedNote,
} from './signed-note.js';
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
