// Signing keys: the ephemeral P-256 key of keyless signing, and key files for key-based signing. `sigil
// generate-key-pair` writes `cosign.key` (the private key as encrypted PKCS#8 PEM: PBES2, PBKDF2 + AES-256-CBC,
// as node:crypto produces it) and `cosign.pub` (SPKI PEM). cosign's own
// "ENCRYPTED SIGSTORE PRIVATE KEY" files (scrypt + nacl secretbox) are recognised and refused with a hint,
// since node:crypto has no XSalsa20-Poly1305; `cosign.pub` files from cosign are read as is.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../crypto/index.js';
import { SignError } from './errors.js';

export const PRIVATE_KEY_FILE = 'cosign.key';
export const PUBLIC_KEY_FILE = 'cosign.pub';

export function ephemeralKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/** Encrypted PKCS#8 PEM of `key` (an empty password still encrypts, as cosign does). */
export function encryptPrivateKey(key: KeyObject, password: string): string {
  return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password }).toString();
}

export interface GeneratedKeyPair {
  privateKeyPath: string;
  publicKeyPath: string;
  publicKeyPem: string;
}

/** Writes `<prefix>.key` (mode 0600, never over an existing file) and `<prefix>.pub`. */
export async function generateKeyPair(prefix: string, password: string): Promise<GeneratedKeyPair> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKeyPath = `${prefix}.key`;
  const publicKeyPath = `${prefix}.pub`;
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  try {
    await writeFileAtomic(privateKeyPath, encryptPrivateKey(privateKey, password), {
      mode: 0o600,
      exclusive: true,
    });
  } catch (err) {
    throw new SignError('KEY_ERROR', `cannot write ${privateKeyPath}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  await writeFileAtomic(publicKeyPath, publicKeyPem);
  return { privateKeyPath, publicKeyPath, publicKeyPem };
}

/** Reads a private key file (encrypted or plain PKCS#8 / SEC1 PEM); `password` opens an encrypted one. */
export async function loadPrivateKey(path: string, password: string | undefined): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    throw new SignError('KEY_ERROR', `cannot read key ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (
    pem.includes('-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----') ||
    pem.includes('-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----')
  ) {
    throw new SignError(
      'KEY_ERROR',
      `${path} is a cosign-encrypted key (scrypt + secretbox), which sigil cannot open; export it with ` +
        '`cosign import-key-pair`/`openssl` to PKCS#8, or make a new pair with `sigil generate-key-pair`',
    );
  }
  const encrypted = pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
  if (encrypted && password === undefined) {
    throw new SignError(
      'KEY_ERROR',
      `${path} is encrypted: set COSIGN_PASSWORD (an empty value is a valid password)`,
    );
  }
  try {
    return createPrivateKey(encrypted ? { key: pem, passphrase: password ?? '' } : pem);
  } catch (err) {
    const why = encrypted ? 'wrong password, or not a PKCS#8 key' : (err as Error).message;
    throw new SignError('KEY_ERROR', `cannot open private key ${path}: ${why}`, { cause: err });
  }
}

/** Reads a public key (SPKI PEM, or a certificate PEM whose key is taken) for verification. */
export async function loadPublicKey(path: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    throw new SignError('KEY_ERROR', `cannot read key ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return createPublicKey(pem);
  } catch (err) {
    throw new SignError('KEY_ERROR', `${path} is not a PEM public key: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
