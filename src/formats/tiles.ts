// C2SP tlog-tiles (https://c2sp.org/tlog-tiles) resource paths and tile geometry: hash tiles of height 8 (256
// hashes of 32 bytes) at <prefix>/tile/<L>/<N>[.p/<W>], entry bundles at <prefix>/tile/entries/<N>[.p/<W>],
// with N written as 3-digit path elements, all but the last prefixed with "x" (1234067 → x001/x234/067).

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

export interface TileRef {
  /** Hash level 0..63, or "entries" for an entry bundle. */
  level: number | 'entries';
  index: number;
  /** Width of a partial tile (1..255); undefined for a full tile. */
  width?: number;
}

export function encodeTileIndex(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0)
    throw new RangeError('tile index must be a non-negative integer');
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** "tile/<L>/<N>[.p/<W>]" (no prefix). */
export function tilePath(ref: TileRef): string {
  const suffix = ref.width !== undefined && ref.width < TILE_WIDTH ? `.p/${ref.width}` : '';
  return `tile/${ref.level}/${encodeTileIndex(ref.index)}${suffix}`;
}

/** Parses the part of a tile URL after "tile/"; undefined when it is not a valid tile path. */
export function parseTilePath(rest: string): TileRef | undefined {
  const m = /^(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(rest);
  if (!m) return undefined;
  const level = m[1] === 'entries' ? 'entries' : Number(m[1]);
  if (typeof level === 'number' && level > 63) return undefined;
  const groups = m[2].split('/').map((g) => g.replace(/^x/, ''));
  let index = 0;
  for (const g of groups) index = index * 1000 + Number(g);
  if (!Number.isSafeInteger(index)) return undefined;
  // A leading "x000" would give two spellings of one index; the spec's encoding never produces it.
  if (groups.length > 1 && groups[0] === '000') return undefined;
  const width = m[3] === undefined ? undefined : Number(m[3]);
  if (width !== undefined && width >= TILE_WIDTH) return undefined;
  return { level, index, width };
}

/** Number of hashes in the rightmost tile at `level` for a tree of `size` (0 when that tile is empty). */
export function partialTileWidth(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level) % TILE_WIDTH;
}
