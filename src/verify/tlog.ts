// Transparency log evidence for one bundle entry, checked offline against the trusted root's log keys:
// - the signed entry timestamp (Rekor v1 SET, formats/set-payload.ts), which also vouches for integratedTime;
// - the RFC 6962 inclusion proof up to rootHash, and the signed checkpoint (C2SP signed-note) that commits the
//   log to that root at that tree size.
import { type SetPayload, setPayloadText, type TransparencyLogEntry } from '../formats/index.js';
import { leafHash, rootFromInclusionProofOrReason } from '../merkle/index.js';
import { type Checkpoint, checkpointSigner, parseCheckpoint } from './checkpoint.js';
import { fail } from './errors.js';
import { inRange, signedBy, type TrustedLog, type TrustMaterial } from './trust-material.js';

export interface TlogEvidence {
  log: TrustedLog;
  /** Integrated time in ms, present only when a valid SET vouches for it. */
  verifiedTime: number | undefined;
  setVerified: boolean;
  proofVerified: boolean;
}

/** The log among `logs` whose key signed this SET; none when the payload is not one a log signs. */
export function setSigner(logs: TrustedLog[], payload: SetPayload, set: Uint8Array): TrustedLog | undefined {
  let data: Buffer;
  try {
    data = Buffer.from(setPayloadText(payload), 'utf8');
  } catch {
    return undefined;
  }
  return logs.find((l) => signedBy(l, data, set));
}

export function verifyTlogEntry(entry: TransparencyLogEntry, trust: TrustMaterial): TlogEvidence {
  const logIdHex = entry.logId.toString('hex');
  const candidates = trust.tlogs.get(logIdHex);
  if (!candidates?.length) fail('TLOG_UNTRUSTED', `transparency log ${logIdHex} is not in the trusted root`);
  const usable = candidates.filter((l) => !l.unusable);
  if (usable.length === 0) fail('TLOG_UNTRUSTED', candidates[0].unusable!);

  let verifiedTime: number | undefined;
  let log = usable[0];
  if (entry.signedEntryTimestamp) {
    const timeMs = entry.integratedTime * 1000;
    if (entry.integratedTime === 0)
      fail('SET_INVALID', `entry ${entry.logIndex} has a SET but no integrated time`);
    const valid = usable.filter((l) => inRange(l.validFor, timeMs));
    if (valid.length === 0) {
      fail(
        'TLOG_UNTRUSTED',
        `log key ${logIdHex} was not valid at integrated time ${new Date(timeMs).toISOString()}`,
      );
    }
    const payload = {
      body: entry.canonicalizedBody.toString('base64'),
      integratedTime: entry.integratedTime,
      logID: logIdHex,
      logIndex: entry.logIndex,
    };
    const signer = setSigner(valid, payload, entry.signedEntryTimestamp);
    if (!signer) fail('SET_INVALID', `signed entry timestamp of log entry ${entry.logIndex} does not verify`);
    log = signer;
    verifiedTime = timeMs;
  }

  let proofVerified = false;
  const proof = entry.inclusionProof;
  if (proof) {
    const root = rootFromInclusionProofOrReason(
      proof.logIndex,
      proof.treeSize,
      leafHash(entry.canonicalizedBody),
      proof.hashes,
    );
    if (typeof root === 'string')
      fail('INCLUSION_PROOF_INVALID', `inclusion proof of entry ${entry.logIndex}: ${root}`);
    if (!root.equals(proof.rootHash)) {
      fail(
        'INCLUSION_PROOF_INVALID',
        `inclusion proof of entry ${entry.logIndex} does not lead to root hash ${proof.rootHash.toString('hex')}`,
      );
    }
    // A v0.1 proof without checkpoint names a root nothing vouches for: checked for consistency, not counted.
    if (proof.checkpoint === undefined) return finish(entry, log, verifiedTime, false);
    const cp = verifyCheckpoint(proof.checkpoint, usable, logIdHex);
    if (cp.treeSize !== proof.treeSize || !cp.rootHash.equals(proof.rootHash)) {
      fail(
        'CHECKPOINT_MISMATCH',
        `checkpoint (size ${cp.treeSize}, root ${cp.rootHash.toString('hex')}) does not match the inclusion proof (size ${proof.treeSize}, root ${proof.rootHash.toString('hex')})`,
      );
    }
    proofVerified = true;
  }
  return finish(entry, log, verifiedTime, proofVerified);
}

function finish(
  entry: TransparencyLogEntry,
  log: TrustedLog,
  verifiedTime: number | undefined,
  proofVerified: boolean,
): TlogEvidence {
  if (verifiedTime === undefined && !proofVerified) {
    fail(
      'TLOG_MISSING',
      `entry ${entry.logIndex} has neither a signed entry timestamp nor a checkpointed inclusion proof`,
    );
  }
  return { log, verifiedTime, setVerified: verifiedTime !== undefined, proofVerified };
}

/** Verifies the checkpoint carries a valid signature by this log (checkpoint.ts). */
function verifyCheckpoint(envelope: string, logs: TrustedLog[], logIdHex: string): Checkpoint {
  const cp = parseCheckpoint(envelope);
  if (typeof cp === 'string') fail('CHECKPOINT_INVALID', cp);
  if (!checkpointSigner(cp, logs))
    fail('CHECKPOINT_INVALID', `checkpoint "${cp.origin}" carries no valid signature by log ${logIdHex}`);
  return cp;
}
