// The explorer's readers for the Rekor v2 tiles and the CT log (src/web/client/tiles.ts, ct.ts), run under Node's
// WebCrypto: an inclusion proof assembled from hash tiles leads to the tree's root for every kind of position
// (first and last leaf, inside a full tile, across the partial right edge, past one and two tile levels), and not
// once a tile hash changes; tile paths follow C2SP tlog-tiles as src/formats writes them; a CT leaf and tree head
// read as src/formats and src/ct write them.
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { precertLeaf } from '../../src/ct/index.js';
import { TILE_WIDTH, tilePath, treeHeadSignedData } from '../../src/formats/index.js';
import { CompactRange, leafHash, nodeHash } from '../../src/merkle/index.js';
import { importLogKey } from '../../src/web/client/checks.js';
import { checkSignedTreeHead, parseLeaf, treeHeadData } from '../../src/web/client/ct.js';
import { rootFromInclusionProof } from '../../src/web/client/merkle.js';
import {
  tilePath as clientTilePath,
  entryFromTiles,
  inclusionProofFromTiles,
  type TileReader,
} from '../../src/web/client/tiles.js';

/** A tiled log of `size` entries: its entries, root and a tile reader over its levels (tile L = height 8·L). */
function tiledLog(size: number) {
  const entries = Array.from({ length: size }, (_, i) => Buffer.from(`entry ${i}`));
  const levels: Buffer[][] = [entries.map((e) => leafHash(e))];
  while ((levels.at(-1)?.length ?? 0) > 1) {
    const below = levels.at(-1) as Buffer[];
    const up: Buffer[] = [];
    for (let j = 0; j + 1 < below.length; j += 2) up.push(nodeHash(below[j], below[j + 1]));
    if (up.length === 0) break;
    levels.push(up);
  }
  const range = CompactRange.empty();
  for (const e of entries) range.append(leafHash(e));
  let reads = 0;
  const read: TileReader = async (level, n, width) => {
    reads++;
    if (level === 'entries') {
      const slice = entries.slice(n * TILE_WIDTH, n * TILE_WIDTH + width);
      return Buffer.concat(slice.flatMap((e) => [Buffer.of(e.length >> 8, e.length & 0xff), e]));
    }
    const nodes = levels[8 * level].slice(n * TILE_WIDTH, n * TILE_WIDTH + width);
    if (nodes.length !== width)
      throw new Error(`asked for ${width} hashes of tile ${level}/${n}, there are ${nodes.length}`);
    return Buffer.concat(nodes);
  };
  return { entries, root: range.root(), read, reads: () => reads };
}

describe('the explorer’s tile reader', () => {
  it('writes tile paths as src/formats does', () => {
    for (const index of [0, 5, 999, 1000, 1234067, 2 ** 40])
      for (const width of [256, 1, 255]) {
        expect(clientTilePath(3, index, width)).toBe(tilePath({ level: 3, index, width }));
        expect(clientTilePath('entries', index, width)).toBe(tilePath({ level: 'entries', index, width }));
      }
  });

  for (const size of [1, 2, 3, 255, 256, 257, 300, 511, 513, 65_536, 65_537, 70_001])
    it(`proves inclusion from tiles in a tree of ${size}`, async () => {
      const log = tiledLog(size);
      const positions = new Set([
        0,
        size - 1,
        Math.floor(size / 2),
        Math.min(size - 1, 256),
        Math.max(0, size - 257),
      ]);
      for (const index of positions) {
        const entry = await entryFromTiles(log.read, index, size);
        expect(Buffer.from(entry).equals(log.entries[index])).toBe(true);
        const proof = await inclusionProofFromTiles(log.read, index, size);
        const root = await rootFromInclusionProof(index, size, leafHash(log.entries[index]), proof);
        expect(root && Buffer.from(root).equals(log.root), `index ${index}`).toBe(true);
      }
    });

  it('leads elsewhere when one tile hash is changed', async () => {
    const log = tiledLog(300);
    const doctored: TileReader = async (level, n, width) => {
      const b = Buffer.from(await log.read(level, n, width));
      if (level === 0 && n === 1) b[0] ^= 1;
      return b;
    };
    const proof = await inclusionProofFromTiles(doctored, 3, 300);
    const root = await rootFromInclusionProof(3, 300, leafHash(log.entries[3]), proof);
    expect(root && Buffer.from(root).equals(log.root)).toBe(false);
  });
});

describe('the explorer’s CT reader', () => {
  it('reads a precertificate leaf and checks a tree head as the CT log writes them', async () => {
    const tbs = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]);
    const leaf = parseLeaf(precertLeaf(1_700_000_000_123, Buffer.alloc(32, 7), tbs));
    expect(leaf.type).toBe('precertificate');
    expect(leaf.timestamp).toBe(1_700_000_000_123);
    // The TBS wrapped as a certificate: SEQUENCE { tbs, ecdsa-with-SHA256, empty BIT STRING }.
    expect(Buffer.from(leaf.certificate.subarray(2, 2 + tbs.length)).equals(tbs)).toBe(true);

    const root = Buffer.alloc(32, 9);
    expect(
      Buffer.from(treeHeadData(1_700_000_000_000, 42, root)).equals(
        treeHeadSignedData(1_700_000_000_000, 42, root),
      ),
    ).toBe(true);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sig = sign('sha256', treeHeadSignedData(1_700_000_000_000, 42, root), privateKey);
    const sth = {
      tree_size: 42,
      timestamp: 1_700_000_000_000,
      sha256_root_hash: root.toString('base64'),
      tree_head_signature: Buffer.concat([Buffer.of(4, 3, sig.length >> 8, sig.length & 0xff), sig]).toString(
        'base64',
      ),
    };
    const key = await importLogKey(publicKey.export({ type: 'spki', format: 'der' }));
    expect((await checkSignedTreeHead(sth, [key])).ok).toBe(true);
    expect((await checkSignedTreeHead({ ...sth, tree_size: 43 }, [key])).ok).toBe(false);
  });
});
