// Transparency log evidence for one bundle entry, checked offline against the trusted root's log keys:
// - the signed entry timestamp (Rekor v1 SET: the log's signature over the RFC 8785 canonical JSON of
//   {body, integratedTime, logID, logIndex}, sigstore/rekor pkg/api), which also vouches for integratedTime;
// - the RFC 6962 inclusion proof up to rootHash, and the signed checkpoint (C2SP signed-note) that commits the
//   log to that root at that tree size.
import { verify } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { TransparencyLogEntry } from '../formats/index.js';
import { leafHash, rootFromInclusionProofOrReason } from '../merkle/index.js';
import { type Checkpoint, keyNamesForOrigin, parseCheckpoint } from './checkpoint.js';
import { fail } from './errors.js';
import { inRange, type TrustedLog, type TrustMaterial } from './trust-material.js';

export interface TlogEvidence {
  log: TrustedLog;
  /** Integrated time in ms, present only when a valid SET vouches for it. */
  verifiedTime: number | undefined;
  setVerified: boolean;
  proofVerified: boolean;
}

function verifySig(log: TrustedLog, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return verify(log.hash, data, log.key, sig);
  } catch {
    return false;
  }
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
    const payload = canonicalize({
      body: entry.canonicalizedBody.toString('base64'),
      integratedTime: entry.integratedTime,
      logID: logIdHex,
      logIndex: entry.logIndex,
    });
    const data = Buffer.from(payload!, 'utf8');
    const signer = valid.find((l) => verifySig(l, data, entry.signedEntryTimestamp!));
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

/** Verifies the checkpoint carries a valid signature by this log (key hint, name and signature). */
function verifyCheckpoint(envelope: string, logs: TrustedLog[], logIdHex: string): Checkpoint {
  const cp = parseCheckpoint(envelope);
  if (typeof cp === 'string') fail('CHECKPOINT_INVALID', cp);
  const names = keyNamesForOrigin(cp.origin);
  for (const sig of cp.signatures) {
    if (!names.includes(sig.name)) continue;
    for (const log of logs) {
      const hintOk =
        log.logId.subarray(0, 4).equals(sig.keyId) || log.checkpointKeyId?.subarray(0, 4).equals(sig.keyId);
      if (hintOk && verifySig(log, cp.text, sig.signature)) return cp;
    }
  }
  fail('CHECKPOINT_INVALID', `checkpoint "${cp.origin}" carries no valid signature by log ${logIdHex}`);
}
