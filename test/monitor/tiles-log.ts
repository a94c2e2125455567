// A test log served as C2SP tlog-tiles (checkpoint and entry bundles, no hash tiles: the monitor needs none), signed
// as Rekor v1 signs its checkpoints (ECDSA, key hint = SHA-256(SPKI)[:4]). The monitor tests swap its view to show
// the monitor honest extensions and forks.
import { createHash, type KeyObject, sign } from 'node:crypto';
import { formatCheckpoint, formatSignedNote, TILE_WIDTH, tilePath } from '../../src/formats/index.js';
import { CompactRange, leafHash } from '../../src/merkle/index.js';

export interface TilesView {
  checkpoint: string;
  /** Entry bundles by path (`/tile/entries/…`). */
  bundles: Map<string, Buffer>;
}

/** A tlog-tiles log of `entries` signed with `key` whose SubjectPublicKeyInfo is `spki`. */
export function view(
  entries: Buffer[],
  key: KeyObject,
  spki: Buffer,
  origin = 'fork.example - 42',
): TilesView {
  const range = CompactRange.empty();
  for (const e of entries) range.append(leafHash(e));
  const text = formatCheckpoint({ origin, size: entries.length, rootHash: range.root() });
  const checkpoint = formatSignedNote({
    text,
    signatures: [
      {
        name: origin.split(' ')[0],
        keyId: createHash('sha256').update(spki).digest().subarray(0, 4),
        signature: sign('sha256', Buffer.from(text), key),
      },
    ],
  });
  const bundles = new Map<string, Buffer>();
  for (let n = 0; n * TILE_WIDTH < entries.length; n++) {
    const slice = entries.slice(n * TILE_WIDTH, (n + 1) * TILE_WIDTH);
    const body = Buffer.concat(
      slice.flatMap((e) => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(e.length);
        return [len, e];
      }),
    );
    bundles.set(`/${tilePath({ level: 'entries', index: n, width: slice.length })}`, body);
  }
  return { checkpoint, bundles };
}
