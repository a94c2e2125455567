// A CT log's signed tree head (RFC 6962 §4.3 get-sth), checked: the TreeHeadSignature (§3.5) over timestamp, size
// and root must verify under one of the trusted CT logs' keys valid at the STH's timestamp. The STH does not name
// its log, so every trusted CT log is tried (a trusted root lists a handful).
import { parseDigitallySigned, treeHeadSignedData } from '../formats/index.js';
import { fail } from './errors.js';
import { inRange, signedBy, type TrustedLog } from './trust-material.js';

export interface VerifiedTreeHead {
  treeSize: number;
  timestamp: number;
  rootHash: Buffer;
  /** The trusted log whose key signed it. */
  log: TrustedLog;
}

/** Checks a get-sth answer (JSON, as parsed) against `logs`; fails with CHECKPOINT_INVALID. */
export function verifySignedTreeHead(sth: unknown, logs: TrustedLog[]): VerifiedTreeHead {
  const s = sth as Record<string, unknown> | null;
  const size = s?.tree_size;
  const timestamp = s?.timestamp;
  const root =
    typeof s?.sha256_root_hash === 'string' ? Buffer.from(s.sha256_root_hash, 'base64') : undefined;
  if (
    !Number.isSafeInteger(size) ||
    (size as number) < 0 ||
    !Number.isSafeInteger(timestamp) ||
    root?.length !== 32
  )
    fail('CHECKPOINT_INVALID', 'the signed tree head is malformed');
  let signature: Buffer;
  try {
    signature = parseDigitallySigned(Buffer.from(String(s?.tree_head_signature), 'base64')).signature;
  } catch (err) {
    fail('CHECKPOINT_INVALID', `the tree head signature is malformed: ${(err as Error).message}`);
  }
  const data = treeHeadSignedData(timestamp as number, size as number, root);
  const log = logs.find(
    (l) => !l.unusable && inRange(l.validFor, timestamp as number) && signedBy(l, data, signature),
  );
  if (!log) fail('CHECKPOINT_INVALID', 'the signed tree head does not verify under any trusted CT log key');
  return { treeSize: size as number, timestamp: timestamp as number, rootHash: root, log };
}
