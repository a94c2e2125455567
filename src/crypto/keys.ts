// Key material kept in the data dir (generated on first start, reused after), and the Signer interface that lets
// a KMS or PKCS#11 HSM replace a local key later. Everything is node:crypto; keys are stored as PKCS#8 PEM.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { ecdsaSigningKey } from './ecdsa-sign.js';
import { writeFileAtomic } from './files.js';

export type KeyKind = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519';

/** Signs messages with a key it may not reveal. `sign` hashes the message itself (SHA-256/384 for ECDSA). */
export interface Signer {
  readonly publicKey: KeyObject;
  sign(message: Uint8Array): Promise<Buffer>;
}

export function generateKey(kind: KeyKind): KeyObject {
  const { privateKey } =
    kind === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: kind === 'ecdsa-p384' ? 'P-384' : 'P-256' });
  return privateKey;
}

/** Reads a PKCS#8 PEM private key at `path`, creating it (mode 0600, atomically) if absent. */
export async function loadOrCreatePrivateKey(path: string, kind: KeyKind): Promise<KeyObject> {
  try {
    return createPrivateKey(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = generateKey(kind);
  await writeFileAtomic(path, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, exclusive: true });
  await keyValidFrom(path);
  // Another process may have won the race to create it; the file on disk is the truth.
  return createPrivateKey(await readFile(path, 'utf8'));
}

/** Where a key's start of validity is kept: beside the key, so a copy of the data dir carries it along. */
export const validFromPath = (keyPath: string) => `${keyPath}.valid-from`;

/**
 * When the key at `keyPath` became valid (its trusted_root.json `validFor.start`): recorded once, when the key is
 * made, in `<key>.valid-from`. File times are not a record: a restored backup or a `touch` would move them, and
 * every signature made before would stop verifying. A key from before this record gets its file time written down
 * once, and keeps it from then on.
 */
export async function keyValidFrom(keyPath: string): Promise<Date> {
  const recordPath = validFromPath(keyPath);
  try {
    const at = new Date(JSON.parse(await readFile(recordPath, 'utf8')).validFrom);
    if (Number.isNaN(at.getTime())) throw new Error(`${recordPath}: validFrom is not a date`);
    return at;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const made = (await stat(keyPath)).mtime;
  const record = `${JSON.stringify({ validFrom: made.toISOString() })}\n`;
  // Exclusive: whoever wrote it first wins, and the file is the truth.
  await writeFileAtomic(recordPath, record, { mode: 0o600, exclusive: true });
  return new Date(JSON.parse(await readFile(recordPath, 'utf8')).validFrom);
}

/**
 * Signs synchronously with a private key held in this process: ECDSA P-256/P-384 keys through ecdsa-sign.ts (the
 * native addon when it is built), other keys with node:crypto. Made once per key; used where a signature must not
 * wait for a promise (worker threads signing in a loop) and by localSigner.
 */
export function signFunction(privateKey: KeyObject): (message: Uint8Array) => Buffer {
  const ecdsa = ecdsaSigningKey(privateKey);
  if (ecdsa) return (message) => ecdsa.sign(message);
  const digest = signatureDigest(privateKey);
  return (message) => sign(digest, message, privateKey);
}

/** A Signer over a private key held in this process. */
export function localSigner(privateKey: KeyObject): Signer {
  const signWith = signFunction(privateKey);
  return {
    publicKey: createPublicKey(privateKey),
    async sign(message) {
      return signWith(message);
    },
  };
}

/** The hash node:crypto's sign/verify must be given for this key: none for Ed25519, SHA-384 for P-384. */
export function signatureDigest(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519') return null;
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp384r1') return 'sha384';
  return 'sha256';
}

/** Verifies an ECDSA (DER) / Ed25519 / RSA PKCS#1 v1.5 signature; false (never a throw) on malformed input. */
export function verifySignature(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(signatureDigest(publicKey), message, publicKey, signature);
  } catch {
    return false;
  }
}

export function spkiDer(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

/** SHA-256 of the DER SubjectPublicKeyInfo: Rekor's logID, CT's log ID, trusted_root's keyId. */
export function keyId(key: KeyObject): Buffer {
  return createHash('sha256').update(spkiDer(key)).digest();
}
