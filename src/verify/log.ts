// What `sigil log` (rekor-cli get / verify / loginfo) checks on a log's answers, against the trusted root's log
// keys: a checkpoint carries the trusted log's signature (checkpoint.ts); an entry's SET (tlog.ts) and its RFC 6962
// inclusion proof up to a signed checkpoint hold; and a fresh checkpoint is consistent (RFC 9162 §2.1.4) with the
// one the proof was made against and with the last one this client saw.
import type { RekorLogEntry, RekorLogInfo } from '../formats/index.js';
import { leafHash as merkleLeafHash, nodeHash, verifyConsistency, verifyInclusion } from '../merkle/index.js';
import { checkpointSigner, parseCheckpoint } from './checkpoint.js';
import { fail } from './errors.js';
import { setSigner } from './tlog.js';
import type { TrustedLog, TrustMaterial } from './trust-material.js';

/** What the online checks ask of the log (sign/'s RekorClient is one): its signed tree head, consistency proofs. */
export interface LogClient {
  logInfo(): Promise<RekorLogInfo>;
  consistencyProof(firstSize: number, lastSize: number): Promise<{ hashes: string[] }>;
}

export interface VerifiedCheckpoint {
  origin: string;
  treeSize: number;
  rootHash: Buffer;
  log: TrustedLog;
}

/** Checks a signed checkpoint against the trusted logs (checkpoint.ts); returns what it commits to. */
export function verifyCheckpointNote(note: string, trust: TrustMaterial): VerifiedCheckpoint {
  const cp = parseCheckpoint(note);
  if (typeof cp === 'string') fail('CHECKPOINT_INVALID', `malformed checkpoint: ${cp}`);
  const logs = [...new Set([...trust.tlogs.values()].flat())].filter((l) => !l.unusable);
  const log = checkpointSigner(cp, logs);
  if (!log) {
    fail(
      'CHECKPOINT_INVALID',
      `checkpoint "${cp.origin}" (size ${cp.treeSize}) carries no valid signature by a log in the trusted root`,
    );
  }
  return { origin: cp.origin, treeSize: cp.treeSize, rootHash: cp.rootHash, log };
}

/** The SET: the log's promise to include the entry, checked with the log key named by the entry's logID. */
export function verifySignedEntryTimestamp(entry: RekorLogEntry, trust: TrustMaterial): TrustedLog {
  const set = entry.verification?.signedEntryTimestamp;
  if (!set) fail('TLOG_MISSING', `entry ${entry.logIndex} has no signed entry timestamp`);
  const logs = trust.tlogs.get(entry.logID);
  if (!logs?.length) fail('TLOG_UNTRUSTED', `transparency log ${entry.logID} is not in the trusted root`);
  const log = setSigner(
    logs.filter((l) => !l.unusable),
    entry,
    Buffer.from(set, 'base64'),
  );
  if (!log)
    fail(
      'SET_INVALID',
      `signed entry timestamp of entry ${entry.logIndex} does not verify with the log's key`,
    );
  return log;
}

export interface ProofStep {
  left: string;
  right: string;
  result: string;
}

export interface EntryProofReport {
  leafHash: string;
  index: number;
  treeSize: number;
  rootHash: string;
  checkpoint: string;
  hashes: string[];
  /** rekor-cli's rendering of the path: each hashing step from the leaf to the root. */
  steps: ProofStep[];
  computedRoot: string;
  /** The fresh checkpoint the proof was checked against for consistency. */
  fresh: { treeSize: number; rootHash: string };
}

/** Each node hash on the way up, in rekor-cli's order (cmd/rekor-cli/app/verify.go). */
export function proofSteps(leafHex: string, index: number, size: number, hashes: string[]): ProofStep[] {
  // Go's bits.Len64 (0 for 0), in BigInt since JS bitwise operators are 32-bit and log indexes are not.
  const x = BigInt(index) ^ BigInt(size - 1);
  const inner = x === 0n ? 0 : x.toString(2).length;
  let result: Buffer = Buffer.from(leafHex, 'hex');
  return hashes.map((h, i) => {
    const hb = Buffer.from(h, 'hex');
    const [left, right] = i < inner && Math.floor(index / 2 ** i) % 2 === 0 ? [result, hb] : [hb, result];
    result = nodeHash(left, right);
    return { left: left.toString('hex'), right: right.toString('hex'), result: result.toString('hex') };
  });
}

/**
 * rekor-cli verify: the entry's inclusion proof leads to its root, the checkpoint for that root is signed by a
 * trusted log, and a fresh checkpoint from the log is signed too and consistent with it.
 */
export async function verifyEntryInclusion(
  rekor: LogClient,
  entry: RekorLogEntry,
  trust: TrustMaterial,
): Promise<EntryProofReport> {
  const proof = entry.verification?.inclusionProof;
  if (!proof) fail('TLOG_MISSING', `entry ${entry.logIndex} came without an inclusion proof`);
  const leaf = merkleLeafHash(Buffer.from(entry.body, 'base64'));
  const hashes = (proof.hashes ?? []).map((h) => Buffer.from(h, 'hex'));
  const root = Buffer.from(proof.rootHash, 'hex');
  if (!verifyInclusion(proof.logIndex, proof.treeSize, leaf, hashes, root)) {
    fail(
      'INCLUSION_PROOF_INVALID',
      `inclusion proof of entry ${entry.logIndex} does not lead to root ${proof.rootHash}`,
    );
  }
  if (!proof.checkpoint)
    fail('CHECKPOINT_INVALID', `entry ${entry.logIndex}'s inclusion proof has no checkpoint`);
  const cp = verifyCheckpointNote(proof.checkpoint, trust);
  if (cp.treeSize !== proof.treeSize || !cp.rootHash.equals(root)) {
    fail(
      'CHECKPOINT_MISMATCH',
      `the proof's checkpoint (size ${cp.treeSize}) does not commit to its root (size ${proof.treeSize})`,
    );
  }
  const fresh = await freshCheckpoint(rekor, trust);
  await checkConsistent(rekor, { treeSize: cp.treeSize, rootHash: cp.rootHash }, fresh);
  return {
    leafHash: leaf.toString('hex'),
    index: proof.logIndex,
    treeSize: proof.treeSize,
    rootHash: proof.rootHash,
    checkpoint: proof.checkpoint,
    hashes: proof.hashes ?? [],
    steps: proofSteps(leaf.toString('hex'), proof.logIndex, proof.treeSize, proof.hashes ?? []),
    computedRoot: root.toString('hex'),
    fresh: { treeSize: fresh.treeSize, rootHash: fresh.rootHash.toString('hex') },
  };
}

/** The log's current signed tree head, verified. */
export async function freshCheckpoint(
  rekor: LogClient,
  trust: TrustMaterial,
): Promise<VerifiedCheckpoint & { treeId?: string }> {
  const info = await rekor.logInfo();
  const cp = verifyCheckpointNote(info.signedTreeHead, trust);
  if (cp.treeSize !== info.treeSize || cp.rootHash.toString('hex') !== info.rootHash.toLowerCase()) {
    fail(
      'CHECKPOINT_MISMATCH',
      `log info (size ${info.treeSize}, root ${info.rootHash}) differs from its signed tree head (size ${cp.treeSize})`,
    );
  }
  return { ...cp, treeId: info.treeID };
}

/** Asks the log for a consistency proof from `older` to `newer` and checks it (older may be the same size). */
export async function checkConsistent(
  rekor: LogClient,
  older: { treeSize: number; rootHash: Buffer },
  newer: { treeSize: number; rootHash: Buffer },
): Promise<void> {
  if (older.treeSize > newer.treeSize) {
    fail(
      'LOG_INCONSISTENT',
      `the log's fresh checkpoint (size ${newer.treeSize}) is smaller than one it signed before (size ${older.treeSize})`,
    );
  }
  if (older.treeSize === newer.treeSize) {
    if (!older.rootHash.equals(newer.rootHash))
      fail('LOG_INCONSISTENT', `the log signed two different roots for tree size ${older.treeSize}`);
    return;
  }
  const proof =
    older.treeSize === 0 ? { hashes: [] } : await rekor.consistencyProof(older.treeSize, newer.treeSize);
  const ok = verifyConsistency(
    older.treeSize,
    newer.treeSize,
    older.rootHash,
    newer.rootHash,
    proof.hashes.map((h) => Buffer.from(h, 'hex')),
  );
  if (!ok)
    fail(
      'LOG_INCONSISTENT',
      `the log is not consistent: tree ${older.treeSize} is not a prefix of tree ${newer.treeSize}`,
    );
}
