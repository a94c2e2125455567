// The certificate transparency log engine (RFC 6962), without HTTP: it accepts precertificates from the CA
// (in-process, or over /ct/v1/add-pre-chain), signs an SCT over each (§3.2) and records the entry durably
// (§3.4 MerkleTreeLeaf + §4.6 extra_data) before the SCT is released. The SCT is a promise of inclusion within
// the maximum merge delay; the Merkle tree over the recorded entries is served by the http layer.
import { createHash, type KeyObject } from 'node:crypto';
import { keyId, type Signer, spkiDer, verifySignature } from '../crypto/index.js';
import {
  type Certificate,
  certificatePublicKey,
  certificateSignedBy,
  isPrecertificate,
  OID,
  type PrecertSubmission,
  parseCertificate,
  precertSignedData,
  type Sct,
  tbsWithoutExtension,
} from '../formats/index.js';
import type { CtEntryStore } from './store.js';
import type { CtTree } from './tree.js';

/** RFC 6962 §3.4 LogEntryType precert_entry; MerkleLeafType timestamped_entry; Version v1. */
const PRECERT_ENTRY = 1;

export class CtError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface LoggedSct {
  sct: Sct;
  /** Resolves with the entry's index once it is on disk; callers must await it before releasing the SCT. */
  durable: Promise<number>;
}

export interface CtEntry {
  leafInput: Buffer;
  extraData: Buffer;
}

function u24(n: number): Buffer {
  const b = Buffer.alloc(3);
  b.writeUIntBE(n, 0, 3);
  return b;
}

function withU24(data: Buffer): Buffer {
  return Buffer.concat([u24(data.length), data]);
}

/** RFC 6962 §3.4 MerkleTreeLeaf for a precert entry with no CT extensions. */
export function precertLeaf(timestamp: number, issuerHash: Buffer, tbs: Buffer): Buffer {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(timestamp));
  return Buffer.concat([
    Buffer.from([0, 0]), // version v1, leaf_type timestamped_entry
    ts,
    Buffer.from([0, PRECERT_ENTRY]),
    issuerHash,
    withU24(tbs),
    Buffer.from([0, 0]), // extensions<0..2^16-1>, empty
  ]);
}

/** RFC 6962 §4.6 PrecertChainEntry: the precertificate, then its chain, each an ASN.1Cert<1..2^24-1>. */
function precertExtraData(precert: Buffer, chain: Buffer[]): Buffer {
  const chainBytes = Buffer.concat(chain.map(withU24));
  return Buffer.concat([withU24(precert), withU24(chainBytes)]);
}

const sameChain = (a: Buffer[], b: Buffer[] | undefined) =>
  b !== undefined && a.length === b.length && a.every((c, i) => c === b[i] || c.equals(b[i]));

/**
 * A queued entry: leaf_input, the precertificate, and its chain, which is left out (marker 0) when it is the
 * CA's own chain: nearly every entry has that one, and the queue is written and fsynced on every issuance.
 */
function encodeRecord(leafInput: Buffer, precert: Buffer, chain: Buffer[], defaultChain?: Buffer[]): Buffer {
  const explicitChain = !sameChain(chain, defaultChain);
  return Buffer.concat([
    withU24(leafInput),
    withU24(precert),
    Buffer.from([explicitChain ? 1 : 0]),
    ...(explicitChain ? [withU24(Buffer.concat(chain.map(withU24)))] : []),
  ]);
}

/** The leaf_input of a stored entry record (what the Merkle tree hashes). */
export function recordLeaf(record: Buffer): Buffer {
  return record.subarray(3, 3 + record.readUIntBE(0, 3));
}

function decodeRecord(record: Buffer, defaultChain: Buffer[]): CtEntry {
  const leafEnd = 3 + record.readUIntBE(0, 3);
  const precertEnd = leafEnd + 3 + record.readUIntBE(leafEnd, 3);
  const precert = record.subarray(leafEnd + 3, precertEnd);
  let chain = defaultChain;
  if (record[precertEnd] === 1) {
    chain = [];
    const body = record.subarray(precertEnd + 4, precertEnd + 4 + record.readUIntBE(precertEnd + 1, 3));
    for (let pos = 0; pos < body.length; pos += 3 + body.readUIntBE(pos, 3))
      chain.push(body.subarray(pos + 3, pos + 3 + body.readUIntBE(pos, 3)));
  }
  return { leafInput: record.subarray(3, leafEnd), extraData: precertExtraData(precert, chain) };
}

export class SctSigner {
  readonly publicKey: KeyObject;
  /** RFC 6962 §3.2 LogID: SHA-256 of the log's DER public key. */
  readonly logId: Buffer;

  constructor(
    private readonly signer: Signer,
    /** The CA's own chain, which records leave out (see encodeRecord). */
    private readonly defaultChain?: Buffer[],
    private readonly now: () => number = Date.now,
  ) {
    this.publicKey = signer.publicKey;
    this.logId = keyId(signer.publicKey);
  }

  async sign(sub: PrecertSubmission): Promise<{ sct: Sct; record: Buffer }> {
    const timestamp = this.now();
    const signature = await this.signer.sign(precertSignedData(timestamp, sub.issuerKeyHash, sub.tbs));
    const leafInput = precertLeaf(timestamp, sub.issuerKeyHash, sub.tbs);
    const record = encodeRecord(leafInput, sub.precertificate, sub.chain, this.defaultChain);
    return { sct: { logId: this.logId, timestamp, extensions: Buffer.alloc(0), signature }, record };
  }
}

export interface CtLogOptions {
  signer: Signer;
  store: CtEntryStore;
  /** DER root certificates whose chains add-pre-chain accepts (§4.1). */
  roots: Buffer[];
  /** The CA's own chain (intermediate, root): stored once, not in every entry. */
  defaultChain?: Buffer[];
  /** The Merkle tree the queued entries are merged into; without one the log only queues. */
  tree?: CtTree;
  now?: () => number;
}

export class CtLog {
  readonly publicKey: KeyObject;
  readonly logId: Buffer;
  readonly sctSigner: SctSigner;
  readonly roots: Buffer[];
  readonly tree?: CtTree;
  private readonly store: CtEntryStore;
  private readonly defaultChain: Buffer[];
  private readonly rootFingerprints: Set<string>;

  constructor(options: CtLogOptions) {
    this.defaultChain = options.defaultChain ?? [];
    this.sctSigner = new SctSigner(options.signer, options.defaultChain, options.now);
    this.publicKey = options.signer.publicKey;
    this.logId = this.sctSigner.logId;
    this.store = options.store;
    this.roots = options.roots;
    this.tree = options.tree;
    this.rootFingerprints = new Set(this.roots.map((r) => createHash('sha256').update(r).digest('hex')));
  }

  /** Queues an entry record made by an SctSigner of this log; resolves with its index once it is durable. */
  async append(record: Buffer): Promise<number> {
    const index = await this.store.append(record);
    // Merged into the tree in the background, within the maximum merge delay.
    this.tree?.catchUp();
    return index;
  }

  /** Signs an SCT for an already-validated precertificate and queues the entry. */
  async logPrecertificate(sub: PrecertSubmission): Promise<LoggedSct> {
    const { sct, record } = await this.sctSigner.sign(sub);
    const durable = this.append(record);
    // Avoid an unhandled rejection if the caller fails before awaiting; the caller still sees the error.
    durable.catch(() => {});
    return { sct, durable };
  }

  /**
   * RFC 6962 §4.1 add-pre-chain: chain[0] is the precertificate, chain[1] its issuer, the last a root this log
   * accepts. Each link's signature is checked. Resolves once the entry is durable.
   */
  async addPreChain(chain: Buffer[]): Promise<Sct> {
    if (chain.length < 2) throw new CtError('chain must hold the precertificate and at least its issuer');
    let parsed: Certificate[];
    try {
      parsed = chain.map(parseCertificate);
    } catch (err) {
      throw new CtError(`chain holds a malformed certificate: ${(err as Error).message}`);
    }
    const [pre, issuer] = parsed;
    if (!isPrecertificate(pre))
      throw new CtError('chain[0] is not a precertificate (no critical poison extension)');
    for (let i = 0; i + 1 < parsed.length; i++) {
      if (!certificateSignedBy(parsed[i], certificatePublicKey(parsed[i + 1])))
        throw new CtError(`chain[${i}] is not signed by chain[${i + 1}]`);
    }
    // The chain must end at an accepted root, or at a certificate an accepted root signed (root omitted).
    const last = parsed[parsed.length - 1];
    const fingerprint = createHash('sha256').update(last.der).digest('hex');
    const rootOk =
      this.rootFingerprints.has(fingerprint) ||
      this.roots.some((r) => {
        const root = parseCertificate(r);
        return root.subject.equals(last.issuer) && certificateSignedBy(last, certificatePublicKey(root));
      });
    if (!rootOk) throw new CtError('chain does not end at a root this log accepts');
    const logged = await this.logPrecertificate({
      // RFC 6962 §3.2: the TBS without the poison extension; issuer_key_hash is SHA-256 of the issuer's SPKI.
      tbs: tbsWithoutExtension(pre, OID.ctPoison),
      issuerKeyHash: createHash('sha256').update(issuer.spki).digest(),
      precertificate: chain[0],
      chain: chain.slice(1),
    });
    await logged.durable;
    return logged.sct;
  }

  size(): number {
    return this.store.size();
  }

  /** Entries start ≤ index < end (end ≤ size()). */
  async entries(start: number, end: number): Promise<CtEntry[]> {
    return (await this.store.read(start, end)).map((r) => decodeRecord(r, this.defaultChain));
  }

  publicKeyDer(): Buffer {
    return spkiDer(this.publicKey);
  }

  /** Checks an SCT this log issued over a precertificate TBS (used by tests and monitors). */
  verifySct(sct: Sct, issuerHash: Buffer, tbs: Buffer): boolean {
    return verifySignature(this.publicKey, precertSignedData(sct.timestamp, issuerHash, tbs), sct.signature);
  }

  async close(): Promise<void> {
    await this.tree?.close();
    await this.store.close();
  }
}
