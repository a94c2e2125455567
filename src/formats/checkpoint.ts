// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the body of a signed note naming a log (origin line),
// its size in decimal and its RFC 6962 root hash in base64, then optional extension lines. Rekor v1 uses the
// origin "<hostname> - <treeID>"; sigstore-js parses only the first three lines.

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
