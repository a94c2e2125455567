// The checks the explorer makes itself, with WebCrypto, on what the log serves: a checkpoint's signed note (C2SP
// signed-note / tlog-checkpoint) under the log's key (ECDSA P-256 for the v1 log, Ed25519 for the v2 log), an
// entry's inclusion proof up to that checkpoint's root (RFC 9162), its Rekor v1 SET (canonical JSON of body,
// integratedTime, logID, logIndex), and consistency between the checkpoint the page saw last and the current one.
// Each returns a Check: ok or not, and why, in words for the page.
import { equal, fromBase64, fromHex, toHex, utf8 } from './bytes.js';
import { children, oid, parse } from './der.js';
import { leafHash, rootFromInclusionProof, verifyConsistency } from './merkle.js';
import { ecdsaDerToP1363 } from './x509.js';

export interface Check {
  ok: boolean;
  detail: string;
}

export interface ParsedCheckpoint {
  /** The signed text, final newline included. */
  text: string;
  origin: string;
  size: number;
  rootHash: Uint8Array;
  signatures: { name: string; keyId: Uint8Array; signature: Uint8Array }[];
}

/** Parses a signed note carrying a checkpoint; throws saying what is wrong. */
export function parseCheckpointNote(note: string): ParsedCheckpoint {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3 || !/^[0-9]{1,16}$/.test(lines[1])) throw new Error('not a checkpoint');
  const signatures = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
      if (!m) throw new Error('malformed signature line');
      const blob = fromBase64(m[2]);
      return { name: m[1], keyId: blob.subarray(0, 4), signature: blob.subarray(4) };
    });
  return { text, origin: lines[0], size: Number(lines[1]), rootHash: fromBase64(lines[2]), signatures };
}

/** WebCrypto's key type, named so that the same code type-checks under Node's types and the DOM's. */
type WebKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export interface LogKey {
  key: WebKey;
  kind: 'ecdsa-p256' | 'ed25519';
}

/** A log's public key from its DER SubjectPublicKeyInfo: ECDSA P-256 or Ed25519. */
export async function importLogKey(spki: Uint8Array): Promise<LogKey> {
  const algorithm = oid(children(children(parse(spki))[0])[0]);
  const data = spki as Uint8Array<ArrayBuffer>;
  if (algorithm === '1.2.840.10045.2.1')
    return {
      kind: 'ecdsa-p256',
      key: await crypto.subtle.importKey('spki', data, { name: 'ECDSA', namedCurve: 'P-256' }, false, [
        'verify',
      ]),
    };
  if (algorithm === '1.3.101.112')
    return {
      kind: 'ed25519',
      key: await crypto.subtle.importKey('spki', data, { name: 'Ed25519' }, false, ['verify']),
    };
  throw new Error(`unsupported log key algorithm ${algorithm}`);
}

/** Verifies a signature made by the log (ECDSA signatures come DER-encoded). */
export async function verifyBy(key: LogKey, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  try {
    if (key.kind === 'ed25519')
      return await crypto.subtle.verify(
        { name: 'Ed25519' },
        key.key,
        signature as Uint8Array<ArrayBuffer>,
        data as Uint8Array<ArrayBuffer>,
      );
    return await crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-256' },
      key.key,
      ecdsaDerToP1363(signature) as Uint8Array<ArrayBuffer>,
      data as Uint8Array<ArrayBuffer>,
    );
  } catch {
    return false;
  }
}

/** Some signature line of the note verifies under the log's key. */
export async function checkCheckpointSignature(cp: ParsedCheckpoint, key: LogKey): Promise<Check> {
  for (const s of cp.signatures)
    if (await verifyBy(key, s.signature, utf8(cp.text)))
      return { ok: true, detail: `signed by ${s.name} (key ID ${toHex(s.keyId)})` };
  return {
    ok: false,
    detail: `none of the ${cp.signatures.length} signature(s) verifies with the log's key`,
  };
}

export interface InclusionProof {
  logIndex: number;
  treeSize: number;
  rootHash: string;
  hashes: string[];
  checkpoint?: string;
}

/** The proof leads from the entry's leaf hash to the root it names (recomputed here, not taken from the log). */
export async function checkInclusion(
  body: Uint8Array,
  proof: InclusionProof,
): Promise<Check & { root?: string }> {
  try {
    const leaf = await leafHash(body);
    const root = await rootFromInclusionProof(
      proof.logIndex,
      proof.treeSize,
      leaf,
      proof.hashes.map(fromHex),
    );
    if (!root)
      return { ok: false, detail: 'the proof has the wrong number of hashes for its index and tree size' };
    if (!equal(root, fromHex(proof.rootHash)))
      return {
        ok: false,
        root: toHex(root),
        detail: `the proof leads to root ${toHex(root)}, not the claimed ${proof.rootHash}`,
      };
    return { ok: true, root: toHex(root), detail: `leaf ${toHex(leaf)} leads to root ${toHex(root)}` };
  } catch (err) {
    return { ok: false, detail: `unreadable proof: ${(err as Error).message}` };
  }
}

/** The checkpoint commits to the proof's root and size, and the log signed it. */
export async function checkProofCheckpoint(proof: InclusionProof, key: LogKey): Promise<Check> {
  if (!proof.checkpoint) return { ok: false, detail: 'the proof carries no checkpoint' };
  let cp: ParsedCheckpoint;
  try {
    cp = parseCheckpointNote(proof.checkpoint);
  } catch (err) {
    return { ok: false, detail: `malformed checkpoint: ${(err as Error).message}` };
  }
  if (cp.size !== proof.treeSize || toHex(cp.rootHash) !== proof.rootHash.toLowerCase())
    return { ok: false, detail: `the checkpoint (size ${cp.size}) does not commit to the proof's root` };
  return checkCheckpointSignature(cp, key);
}

export interface SetFields {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
}

/** Rekor v1's signed entry timestamp: the log's signature over the canonical JSON of the four fields. */
export async function checkSet(entry: SetFields, set: string | undefined, key: LogKey): Promise<Check> {
  if (!set) return { ok: false, detail: 'the entry has no signed entry timestamp' };
  // RFC 8785 for these four: keys in this (sorted) order, integers and strings as JSON.stringify writes them.
  const payload = JSON.stringify({
    body: entry.body,
    integratedTime: entry.integratedTime,
    logID: entry.logID,
    logIndex: entry.logIndex,
  });
  return (await verifyBy(key, fromBase64(set), utf8(payload)))
    ? { ok: true, detail: 'signed by the log' }
    : { ok: false, detail: 'does not verify with the log key' };
}

/** The older checkpoint's tree is a prefix of the newer one's (hashes: the log's consistency proof). */
export async function checkConsistency(
  older: { size: number; root: Uint8Array },
  newer: { size: number; root: Uint8Array },
  hashes: string[],
): Promise<Check> {
  const ok = await verifyConsistency(older.size, newer.size, older.root, newer.root, hashes.map(fromHex));
  return ok
    ? { ok: true, detail: `tree ${older.size} is a prefix of tree ${newer.size}` }
    : { ok: false, detail: `tree ${older.size} is NOT a prefix of tree ${newer.size}: the log forked` };
}
