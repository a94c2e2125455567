// Signed checkpoints as carried in a bundle's inclusion proof. formats/ parses the C2SP signed note
// (signed-note.md) and the checkpoint text (tlog-checkpoint.md); this adds what the verifier needs on top: the
// exact signed bytes, a parse failure as a reason string, and the key names a log signs with. Rekor v1 names its
// key after the origin's host part ("rekor.sigstore.dev - <tree id>") and its key hint is the first 4 bytes of
// the log ID (SHA-256 of the key's DER SubjectPublicKeyInfo).
import {
  type NoteSignature,
  parseCheckpoint as parseCheckpointText,
  parseSignedNote,
} from '../formats/index.js';

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
