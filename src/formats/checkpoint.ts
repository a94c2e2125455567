// A C2SP signed-note (https://c2sp.org/signed-note) carrying a C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint).
// The note: a UTF-8 text ending in a newline, a blank line, then one line per signature
// "— <key name> <base64(4-byte key ID || signature)>". The checkpoint is the text: the log's origin line, its size
// in decimal and its RFC 6962 root hash in base64, then optional extension lines. Rekor v1 uses the origin
// "<hostname> - <treeID>" and the first four bytes of the log ID (SHA-256 of the key's DER SPKI) as key ID;
// sigstore-js parses only the first three lines.

export const EM_DASH = '\u2014';

export interface NoteSignature {
  /** Key name: non-empty, no whitespace, no "+". */
  name: string;
  /** 4-byte key ID (a hint for picking the verification key). */
  keyId: Uint8Array;
  signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, including its final newline. */
  text: string;
  signatures: NoteSignature[];
}

export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

export function formatSignedNote(note: SignedNote): string {
  if (!note.text.endsWith('\n')) throw new Error('signed note text must end with a newline');
  if (note.signatures.length === 0) throw new Error('signed note needs at least one signature');
  let out = `${note.text}\n`;
  for (const s of note.signatures) {
    if (!isValidKeyName(s.name)) throw new Error(`invalid signed note key name ${JSON.stringify(s.name)}`);
    if (s.keyId.length !== 4) throw new Error('signed note key ID must be 4 bytes');
    const blob = Buffer.concat([Buffer.from(s.keyId), Buffer.from(s.signature)]);
    out += `${EM_DASH} ${s.name} ${blob.toString('base64')}\n`;
  }
  return out;
}

const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u;

/** Parses a signed note; throws an Error saying what is wrong. Signatures are not verified here. */
export function parseSignedNote(input: string): SignedNote {
  const split = input.lastIndexOf('\n\n');
  if (split < 0) throw new Error('signed note: no blank line before the signatures');
  const text = input.slice(0, split + 1);
  const block = input.slice(split + 2);
  if (!block.endsWith('\n')) throw new Error('signed note: signature block must end with a newline');
  const signatures: NoteSignature[] = [];
  for (const line of block.slice(0, -1).split('\n')) {
    const m = SIGNATURE_LINE.exec(line);
    if (!m) throw new Error(`signed note: malformed signature line ${JSON.stringify(line)}`);
    const blob = Buffer.from(m[2], 'base64');
    if (blob.length < 5) throw new Error('signed note: signature too short');
    signatures.push({ name: m[1], keyId: blob.subarray(0, 4), signature: blob.subarray(4) });
  }
  if (signatures.length === 0) throw new Error('signed note: no signatures');
  return { text, signatures };
}

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Extension lines, without their newlines. */
  extensions?: string[];
}

export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin.length === 0 || c.origin.includes('\n'))
    throw new Error('checkpoint origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0)
    throw new Error('checkpoint size must be a non-negative integer');
  let out = `${c.origin}\n${c.size}\n${Buffer.from(c.rootHash).toString('base64')}\n`;
  for (const ext of c.extensions ?? []) {
    if (ext.length === 0 || ext.includes('\n'))
      throw new Error('checkpoint extension lines must be non-empty');
    out += `${ext}\n`;
  }
  return out;
}

/** Parses the text of a checkpoint (the signed part of the note). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new Error('checkpoint: must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new Error('checkpoint: fewer than three lines');
  const [origin, sizeLine, hashLine, ...extensions] = lines;
  if (origin.length === 0) throw new Error('checkpoint: empty origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine))
    throw new Error(`checkpoint: tree size ${JSON.stringify(sizeLine)} is not a decimal number`);
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw new Error('checkpoint: tree size too large');
  // Only the canonical encoding (zero padding bits): one root hash has one text, so one signed checkpoint.
  const rootHash = Buffer.from(hashLine, 'base64');
  if (!/^[A-Za-z0-9+/]{43}=$/.test(hashLine) || rootHash.toString('base64') !== hashLine)
    throw new Error('checkpoint: root hash is not 32 bytes of base64');
  if (extensions.some((e) => e.length === 0)) throw new Error('checkpoint: empty extension line');
  return { origin, size, rootHash, extensions };
}
