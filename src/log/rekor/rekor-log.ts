// Rekor v1 semantics on top of the generic Merkle log: validated entries in, LogEntry objects out, each with its
// signed entry timestamp (SET: the log key's ECDSA signature over the canonical JSON of {body, integratedTime,
// logID, logIndex}, exactly as Rekor computes it) and an inclusion proof against a signed checkpoint whose origin
// is "<hostname> - <treeID>" and whose signature key hint is the first 4 bytes of the log ID (what sigstore-js
// checks). The entry UUID is the hex leaf hash; entry IDs prefix it with the 16-hex tree ID.

import { createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { keyId, publicKeyPem, type Signer, spkiDer } from '../../crypto/index.js';
import {
  entryId,
  FormatError,
  type LogEntryJson,
  parseEntryUuid,
  setPayloadText,
} from '../../formats/index.js';
import type { AppendForwarder } from '../forwarding.js';
import { type MerkleLog, openMerkleLog, type SequencedPosition } from '../merkle-log.js';
import { rekorNoteSigner } from '../note-signer.js';
import type { LogStorage, StoredEntry, TreeHead } from '../storage.js';
import { type EntryValidator, entryValidator, type Validated } from './validation-pool.js';

export interface RekorLogOptions {
  /** The log's signing key (ECDSA P-256, as Rekor and sigstore-js expect). */
  signer: Signer;
  /**
   * Host name for the checkpoint origin and signature line; fixed at first start and kept in the database.
   * sigstore-js requires it to appear in the log's base URL in the trusted root.
   */
  hostname: string;
  /** Where the log is kept (a backend from src/storage/, chosen by server/). */
  storage: LogStorage;
  batchMaxSize?: number;
  batchMaxAgeMs?: number;
  batchBusyAgeMs?: number;
  /** Worker threads that check proposed entries (validation-pool.ts); 0 checks them on the main thread. */
  validationThreads?: number;
  /**
   * The private key behind `signer` when it is held in this process: SETs are then signed by the worker pool
   * instead of on the main thread. Without it (a KMS or HSM signer) `signer` signs them.
   */
  setSigningKey?: KeyObject;
  /** On a shared store: the URL this process takes appends at while it sequences (MerkleLogOptions). */
  sequencerUrl?: string;
  /** On a shared store: how appends reach the sequencer while this process is not it (MerkleLogOptions). */
  forward?: AppendForwarder;
}

export class ConflictError extends Error {
  constructor(readonly entryId: string) {
    super(`An equivalent entry already exists in the transparency log with UUID ${entryId}`);
  }
}

export class NotFoundError extends Error {}

/** A proposed entry still as the request's JSON text: cheaper to hand to a validation worker than parsed JSON. */
export class JsonText {
  constructor(readonly text: string) {}
}

/** An entry's base64 body and its SET being signed, made once when it was sequenced and reused to answer. */
interface Signed {
  body: string;
  set: Promise<Buffer>;
}

export interface CreatedEntry {
  entryId: string;
  entry: LogEntryJson;
}

export interface RekorLog {
  readonly treeId: string;
  readonly logId: Buffer;
  readonly merkle: MerkleLog;
  publicKeyPem(): string;
  /**
   * Validates, appends (durably) and returns the entry with SET and inclusion proof; ConflictError if present.
   * Takes the parsed proposed entry, or the request's JSON text as a JsonText (then parsed off the main thread).
   */
  add(proposed: unknown): Promise<CreatedEntry>;
  byIndex(index: number): Promise<CreatedEntry>;
  byUuid(uuidOrEntryId: string): Promise<CreatedEntry>;
  /** The existing entry equivalent to a proposed one, if any (validates it first). */
  byProposed(proposed: unknown): Promise<CreatedEntry | undefined>;
  /** Entry IDs of entries indexed under a search term. */
  search(t: string): Promise<string[]>;
  head(): TreeHead;
  close(): Promise<void>;
}

export async function openRekorLog(options: RekorLogOptions): Promise<RekorLog> {
  const { storage } = options;
  // A positive int63, like the Trillian tree IDs Rekor uses.
  const treeId = await storage.initMeta('treeId', (randomBytes(8).readBigUInt64BE() >> 1n).toString());
  const hostname = await storage.initMeta('hostname', options.hostname);
  const key = options.setSigningKey;
  if (key && !spkiDer(createPublicKey(key)).equals(spkiDer(options.signer.publicKey))) {
    throw new Error('setSigningKey is not the private key of the log signer');
  }
  const validator = entryValidator(options.validationThreads);
  // Checkpoints are signed by the signer itself, on this thread: one signature per batch is a microsecond or two
  // per entry under load, while a trip through the worker pool put a wait behind queued validations (15-25 ms
  // measured at 3,500 entries/s) on every batch's way to its commit.
  const merkle = await openMerkleLog({
    storage,
    origin: `${hostname} - ${treeId}`,
    signers: [rekorNoteSigner(options.signer, hostname)],
    batchMaxSize: options.batchMaxSize,
    batchMaxAgeMs: options.batchMaxAgeMs,
    batchBusyAgeMs: options.batchBusyAgeMs,
    sequencerUrl: options.sequencerUrl,
    forward: options.forward,
  });
  return new Rekor(merkle, options.signer, treeId, validator, key);
}

class Rekor implements RekorLog {
  readonly logId: Buffer;
  readonly #logIdHex: string;

  constructor(
    readonly merkle: MerkleLog,
    readonly signer: Signer,
    readonly treeId: string,
    readonly validator: EntryValidator,
    readonly setKey?: KeyObject,
  ) {
    this.logId = keyId(signer.publicKey);
    this.#logIdHex = this.logId.toString('hex');
  }

  publicKeyPem(): string {
    return publicKeyPem(this.signer.publicKey);
  }

  head(): TreeHead {
    return this.merkle.head();
  }

  #validate(proposed: unknown): Promise<Validated> {
    return this.validator.validate({ value: proposed });
  }

  async add(proposed: unknown): Promise<CreatedEntry> {
    const v = await (proposed instanceof JsonText
      ? this.validator.validate({ text: proposed.text })
      : this.#validate(proposed));
    const hash = v.leafHash;
    // The SET is signed as soon as the entry has its index, while its batch commits; it is released (with the
    // rest of the answer) only once append() resolved, i.e. the batch is durable.
    let signed: Signed | undefined;
    const onSequenced = ({ index, timestamp }: SequencedPosition) => {
      const body = v.body.toString('base64');
      const set = this.#signSet(body, index, timestamp);
      set.catch(() => {}); // a failed batch leaves its SETs unused; the append's own rejection is what reports it
      signed = { body, set };
    };
    // The sequencer deduplicates (against the batch and the store), so no lookup is needed before appending.
    const r = await this.merkle.append({
      leaf: v.body,
      identity: hash,
      leafHash: hash,
      terms: v.terms,
      onSequenced,
    });
    if (r.duplicate) throw new ConflictError(entryId(this.treeId, r.leafHash.toString('hex')));
    return this.#render(
      { index: r.index, timestamp: r.timestamp, data: v.body, identity: hash },
      r.head,
      signed,
    );
  }

  /** Rekor's SET: the log key's signature over the canonical JSON of {body, integratedTime, logID, logIndex}. */
  #signSet(body: string, index: number, timestamp: number): Promise<Buffer> {
    const payload = setPayloadText({
      body,
      integratedTime: Math.floor(timestamp / 1000),
      logID: this.#logIdHex,
      logIndex: index,
    });
    return this.setKey ? this.validator.sign(this.setKey, payload) : this.signer.sign(Buffer.from(payload));
  }

  async byProposed(proposed: unknown): Promise<CreatedEntry | undefined> {
    const v = await this.#validate(proposed);
    const index = await this.merkle.findByIdentity(v.leafHash);
    return index === undefined ? undefined : this.byIndex(index);
  }

  async byIndex(index: number): Promise<CreatedEntry> {
    const e = await this.merkle.entry(index);
    if (!e) throw new NotFoundError(`no entry at log index ${index}`);
    return this.#render(e, this.merkle.head());
  }

  async byUuid(s: string): Promise<CreatedEntry> {
    const parsed = parseEntryUuid(s);
    if (!parsed) throw new FormatError('entry UUID must be 64 or 80 hexadecimal characters');
    const treeHex = BigInt(this.treeId).toString(16).padStart(16, '0');
    if (parsed.treeIdHex && parsed.treeIdHex !== treeHex)
      throw new NotFoundError(`no entry with UUID ${s} in this tree`);
    const index = await this.merkle.findByIdentity(Buffer.from(parsed.uuid, 'hex'));
    if (index === undefined) throw new NotFoundError(`no entry with UUID ${s}`);
    return this.byIndex(index);
  }

  async search(t: string): Promise<string[]> {
    const out: string[] = [];
    for (const index of await this.merkle.findByTerm(t)) {
      const e = await this.merkle.entry(index);
      if (!e) continue;
      out.push(entryId(this.treeId, e.identity.toString('hex')));
    }
    return out;
  }

  async #render(e: StoredEntry, head: TreeHead, signed?: Signed): Promise<CreatedEntry> {
    const body = signed?.body ?? e.data.toString('base64');
    const integratedTime = Math.floor(e.timestamp / 1000);
    const set = await (signed?.set ?? this.#signSet(body, e.index, e.timestamp));
    const hashes = await this.merkle.inclusionProof(e.index, head.size);
    // Rekor entries are appended with their leaf hash as the identity (see add), so it need not be recomputed.
    const uuid = e.identity.toString('hex');
    return {
      entryId: entryId(this.treeId, uuid),
      entry: {
        body,
        integratedTime,
        logID: this.#logIdHex,
        logIndex: e.index,
        verification: {
          signedEntryTimestamp: set.toString('base64'),
          inclusionProof: {
            logIndex: e.index,
            rootHash: head.root.toString('hex'),
            treeSize: head.size,
            hashes: hashes.map((h) => h.toString('hex')),
            checkpoint: head.checkpoint,
          },
        },
      },
    };
  }

  close(): Promise<void> {
    return this.merkle.close();
  }
}
