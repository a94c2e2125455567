// Signed checkpoints as carried in a bundle's inclusion proof: a C2SP signed note (C2SP/C2SP signed-note.md)
// whose text is a checkpoint (tlog-checkpoint.md: origin, tree size, base64 root hash, optional extension
// lines). Rekor v1 names its key after the origin's host part ("rekor.sigstore.dev - <tree id>") and its key hint
// is the first 4 bytes of the log ID (SHA-256 of the key's DER SubjectPublicKeyInfo).

export interface NoteSignature {
  name: string;
  keyHint: Buffer;
  signature: Buffer;
}

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
  const split = envelope.indexOf('\n\n');
  if (split < 0) return 'checkpoint has no blank line between note text and signatures';
  const text = envelope.slice(0, split + 1);
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) return 'checkpoint text needs origin, tree size and root hash lines';
  const [origin, sizeLine, rootLine] = lines;
  if (origin.length === 0) return 'checkpoint origin line is empty';
  if (!/^(0|[1-9]\d*)$/.test(sizeLine))
    return `checkpoint tree size ${JSON.stringify(sizeLine)} is not a number`;
  const treeSize = Number(sizeLine);
  if (!Number.isSafeInteger(treeSize)) return 'checkpoint tree size is too large';
  const rootHash = Buffer.from(rootLine, 'base64');
  if (rootHash.length !== 32 || rootHash.toString('base64') !== rootLine)
    return 'checkpoint root hash is not 32 base64 bytes';

  const signatures: NoteSignature[] = [];
  const sigText = envelope.slice(split + 2);
  if (!sigText.endsWith('\n')) return 'checkpoint signature block must end with a newline';
  for (const line of sigText.slice(0, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) return `malformed checkpoint signature line ${JSON.stringify(line)}`;
    const raw = Buffer.from(m[2], 'base64');
    if (raw.length < 5) return 'checkpoint signature is too short';
    signatures.push({ name: m[1], keyHint: raw.subarray(0, 4), signature: raw.subarray(4) });
  }
  if (signatures.length === 0) return 'checkpoint carries no signature';
  return { origin, treeSize, rootHash, text: Buffer.from(text, 'utf8'), signatures };
}

/** The key name a log's checkpoint signatures should carry: the origin, or its host part for Rekor v1. */
export function keyNamesForOrigin(origin: string): string[] {
  const host = origin.split(' ')[0];
  return host === origin ? [origin] : [origin, host];
}
