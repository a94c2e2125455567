// How a frontend that does not sequence a shared log hands its appends to the one that does
// (docs/design/scale-out.md): the follower validates each entry itself (the costly part, spread over every
// frontend), then sends the resulting leaves in batches — all that queued while the previous batch was on its
// way — and the sequencer only deduplicates, sequences and commits them. The answer carries each entry's position
// and the committed head, from which the follower renders the client's answer (SET, inclusion proof) itself.
// This module is the batch's wire format, binary because it carries raw leaves; the transport is the HTTP
// adapter's (http.ts), which authenticates it with a secret of the shared data dir.

import type { TreeHead } from './storage.js';

export interface ForwardedAppend {
  leaf: Buffer;
  identity: Buffer;
  /** leafHash(leaf), when the follower computed it (AppendInput.leafHash). */
  leafHash?: Buffer;
  terms: string[];
}

export type ForwardedResult =
  | {
      index: number;
      timestamp: number;
      leafHash: string;
      duplicate: boolean;
      /**
       * The entry's inclusion proof in the answer's head (base64 hashes): the sequencer has the tree's right edge
       * in memory, where the follower would read it back from the database for every entry.
       */
      proof: string[];
    }
  | { error: string; status: number };

export interface ForwardedAnswer {
  results: ForwardedResult[];
  /** The sequencer's committed head once every append of the batch was answered (base64 root). */
  head: { size: number; root: string; timestamp: number; checkpoint: string };
}

/** Each append: u32 leaf length, leaf, u16 identity length, identity, u8 hash length (0 or 32), hash, u16 term count, terms (u16 length, UTF-8). */
export function encodeForwarded(appends: ForwardedAppend[]): Buffer {
  const parts: Buffer[] = [];
  for (const a of appends) {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(a.leaf.length);
    const id = Buffer.alloc(2);
    id.writeUInt16BE(a.identity.length);
    const hash = a.leafHash?.length === 32 ? a.leafHash : undefined;
    const count = Buffer.alloc(2);
    count.writeUInt16BE(a.terms.length);
    parts.push(head, a.leaf, id, a.identity, Buffer.from([hash ? 32 : 0]), ...(hash ? [hash] : []), count);
    for (const t of a.terms) {
      const text = Buffer.from(t, 'utf8');
      const len = Buffer.alloc(2);
      len.writeUInt16BE(text.length);
      parts.push(len, text);
    }
  }
  return Buffer.concat(parts);
}

/** The inverse of encodeForwarded; throws RangeError on a truncated or malformed batch. */
export function decodeForwarded(data: Buffer): ForwardedAppend[] {
  const out: ForwardedAppend[] = [];
  let at = 0;
  const take = (n: number): Buffer => {
    if (at + n > data.length) throw new RangeError('forwarded batch is truncated');
    const b = data.subarray(at, at + n);
    at += n;
    return b;
  };
  while (at < data.length) {
    const leaf = take(take(4).readUInt32BE());
    const identity = take(take(2).readUInt16BE());
    const hashLength = take(1)[0];
    if (hashLength !== 0 && hashLength !== 32) throw new RangeError('forwarded leaf hash must be 32 bytes');
    const leafHash = hashLength ? take(32) : undefined;
    const terms: string[] = [];
    for (let n = take(2).readUInt16BE(); n > 0; n--)
      terms.push(take(take(2).readUInt16BE()).toString('utf8'));
    out.push({ leaf, identity, leafHash, terms });
  }
  return out;
}

export function headFromAnswer(h: ForwardedAnswer['head']): TreeHead {
  return {
    size: h.size,
    root: Buffer.from(h.root, 'base64'),
    timestamp: h.timestamp,
    checkpoint: h.checkpoint,
  };
}

/** Sends a batch to the sequencer at `url` and resolves with its answer (http.ts provides one over HTTP). */
export type AppendForwarder = (url: string, appends: ForwardedAppend[]) => Promise<ForwardedAnswer>;
