// Rekor v2 semantics on the generic Merkle log, as sigstore/rekor-tiles serves them: a validated request in
// (v2-entries.ts, checked by the shared validation pool), its canonical Entry appended as the leaf, and the answer
// a protobuf-specs TransparencyLogEntry with an inclusion proof against the signed checkpoint that first covers
// the entry: no signed entry timestamp and no integrated time (a v2 log vouches for time only through a TSA).
// The checkpoint origin is the log's host name, signed with an Ed25519 key (C2SP signed-note), because verifiers
// (sigstore-go pkg/verify/tlog.go) check it with a note verifier named after the host of the log's base URL; the
// log ID in the trusted root is that key's full signed-note key hash. A second append of the same entry is a
// ConflictError carrying the existing index (rekor-tiles: 409 with x-log-index).

import type { KeyObject } from 'node:crypto';
import type { AppendForwarder } from '../forwarding.js';
import { type MerkleLog, openMerkleLog } from '../merkle-log.js';
import { ed25519NoteSigner } from '../note-signer.js';
import type { LogStorage, TreeHead } from '../storage.js';
import { entryValidator } from './validation-pool.js';

export interface RekorV2LogOptions {
  storage: LogStorage;
  /** The checkpoint key (Ed25519). */
  checkpointKey: KeyObject;
  /** The checkpoint origin and key name on first start (the public URL's host name); kept in the database. */
  hostname: string;
  validationThreads?: number;
  batchMaxSize?: number;
  batchMaxAgeMs?: number;
  /** On a shared store: the URL this process takes appends at while it sequences (MerkleLogOptions). */
  sequencerUrl?: string;
  /** On a shared store: how appends reach the sequencer while this process is not it (MerkleLogOptions). */
  forward?: AppendForwarder;
}

export class DuplicateEntryError extends Error {
  constructor(readonly index: number) {
    super(`an equal entry is already in the log at index ${index}`);
  }
}

export interface RekorV2Log {
  readonly origin: string;
  /** The full signed-note key hash: the log ID in the trusted root and in each answer. */
  readonly logId: Buffer;
  readonly merkle: MerkleLog;
  /** Validates and appends a CreateEntryRequest (its JSON text); resolves, once durable, to the answer's JSON. */
  add(requestText: string): Promise<{ index: number; json: string }>;
  head(): TreeHead;
  close(): Promise<void>;
}

export async function openRekorV2Log(options: RekorV2LogOptions): Promise<RekorV2Log> {
  const { storage } = options;
  const origin = await storage.initMeta('origin', options.hostname);
  const signer = ed25519NoteSigner(options.checkpointKey, origin);
  const merkle = await openMerkleLog({
    storage,
    origin,
    signers: [signer],
    batchMaxSize: options.batchMaxSize,
    batchMaxAgeMs: options.batchMaxAgeMs,
    sequencerUrl: options.sequencerUrl,
    forward: options.forward,
  });
  const validator = entryValidator(options.validationThreads);
  const logIdJson = JSON.stringify({ keyId: signer.keyHash.toString('base64') });
  return {
    origin,
    logId: signer.keyHash,
    merkle,
    head: () => merkle.head(),
    close: () => merkle.close(),
    async add(requestText) {
      const v = await validator.validate({ text: requestText, api: 2 });
      const r = await merkle.append({ leaf: v.body, identity: v.leafHash, leafHash: v.leafHash });
      if (r.duplicate) throw new DuplicateEntryError(r.index);
      const hashes = await merkle.inclusionProof(r.index, r.head.size);
      // protojson: int64 as decimal strings, bytes as standard base64.
      const json =
        `{"logIndex":"${r.index}","logId":${logIdJson},` +
        `"kindVersion":${JSON.stringify({ kind: v.kind, version: v.apiVersion })},` +
        `"inclusionProof":{"logIndex":"${r.index}","rootHash":"${r.head.root.toString('base64')}",` +
        `"treeSize":"${r.head.size}","hashes":${JSON.stringify(hashes.map((h) => h.toString('base64')))},` +
        `"checkpoint":{"envelope":${JSON.stringify(r.head.checkpoint)}}},` +
        `"canonicalizedBody":"${v.body.toString('base64')}"}`;
      return { index: r.index, json };
    },
  };
}
