// Signed checkpoints (C2SP signed-note + tlog-checkpoint, parsed by formats/), checked one way for every verifier:
// a bundle's inclusion proof (tlog.ts) and a log's own answers (log.ts, `sigil log`). A signature counts when its
// key name is the origin, or its host part (Rekor v1 names its key "rekor.sigstore.dev" for the origin
// "rekor.sigstore.dev - <tree id>"); its key hint is the first 4 bytes of a trusted log's ID (SHA-256 of the key's
// DER SubjectPublicKeyInfo) or checkpoint key ID (Rekor v2); and that log's key verifies it. Witnesses' signatures
// (other names) are ignored.
import {
  type NoteSignature,
  parseCheckpoint as parseCheckpointText,
  parseSignedNote,
} from '../formats/index.js';
import { signedBy, type TrustedLog } from './trust-material.js';

export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: Buffer;
  /** The exact signed text (everything before the blank line, including the final newline). */
  text: Buffer;
  signatures: NoteSignature[];
}

/** Parses a signed-note checkpoint; returns a reason string when it is malformed. */
export function parseCheckpoint(envelope: string): Checkpoint | string {
  try {
    const note = parseSignedNote(envelope);
    const cp = parseCheckpointText(note.text);
    return {
      origin: cp.origin,
      treeSize: cp.size,
      rootHash: Buffer.from(cp.rootHash),
      text: Buffer.from(note.text, 'utf8'),
      signatures: note.signatures,
    };
  } catch (err) {
    return (err as Error).message;
  }
}

/** The key name a log's checkpoint signatures should carry: the origin, or its host part for Rekor v1. */
export function keyNamesForOrigin(origin: string): string[] {
  const host = origin.split(' ')[0];
  return host === origin ? [origin] : [origin, host];
}

/** The log among `logs` whose signature the checkpoint carries, if any. */
export function checkpointSigner(cp: Checkpoint, logs: TrustedLog[]): TrustedLog | undefined {
  const names = keyNamesForOrigin(cp.origin);
  for (const sig of cp.signatures) {
    if (!names.includes(sig.name)) continue;
    const hinted = logs.filter(
      (log) =>
        log.logId.subarray(0, 4).equals(sig.keyId) || log.checkpointKeyId?.subarray(0, 4).equals(sig.keyId),
    );
    const signer = hinted.find((log) => signedBy(log, cp.text, sig.signature));
    if (signer) return signer;
  }
  return undefined;
}
