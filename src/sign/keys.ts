// Signing keys: the ephemeral P-256 key of keyless signing, and key files for key-based signing. `sigil
// generate-key-pair` writes `cosign.key` in cosign's own encrypted format (cosign-key.ts: scrypt + NaCl
// secretbox, "ENCRYPTED SIGSTORE PRIVATE KEY") and `cosign.pub` (SPKI PEM), so cosign uses sigil's keys and
// sigil uses cosign's. Also read: encrypted PKCS#8 PEM (what sigil wrote before) and plain PKCS#8 / SEC 1 PEM.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../crypto/index.js';
import { CosignKeyError, decryptCosignKey, encryptCosignKey, isCosignEncryptedKey } from './cosign-key.js';
import { SignError } from './errors.js';

export function ephemeralKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/** `key` in cosign's encrypted format (an empty password still encrypts, as cosign does). */
export function encryptPrivateKey(key: KeyObject, password: string): string {
  return encryptCosignKey(key.export({ type: 'pkcs8', format: 'der' }), password);
}

/** Whether a private key file's text needs a password to open. */
export function keyNeedsPassword(pem: string): boolean {
  return isCosignEncryptedKey(pem) || pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
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
  await refuseExisting(privateKeyPath);
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

/**
 * A key pair is never written over an existing private key: writeFileAtomic's exclusive mode keeps the old file
 * quietly (first writer wins, as the servers' key files want), which here would leave a .pub that does not match
 * the .key. cosign asks before overwriting; sigil refuses and says what to do.
 */
export async function refuseExisting(privateKeyPath: string): Promise<void> {
  const there = await access(privateKeyPath).then(
    () => true,
    () => false,
  );
  if (there)
    throw new SignError(
      'KEY_ERROR',
      `${privateKeyPath} already exists: remove it, or pass another --output-key-prefix`,
    );
}

/** Reads a private key file (encrypted or plain PKCS#8 / SEC1 PEM); `password` opens an encrypted one. */
export async function loadPrivateKey(path: string, password: string | undefined): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    throw new SignError('KEY_ERROR', `cannot read key ${path}: ${(err as Error).message}`, { cause: err });
  }
  return privateKeyFromPem(pem, password, path);
}

/** A private key from its text (cosign's encrypted form, encrypted or plain PKCS#8, SEC 1); `path` names it in errors. */
export function privateKeyFromPem(pem: string, password: string | undefined, path: string): KeyObject {
  if (isCosignEncryptedKey(pem)) {
    if (password === undefined) {
      throw new SignError(
        'KEY_ERROR',
        `${path} is encrypted: set COSIGN_PASSWORD (an empty value is a valid password)`,
      );
    }
    try {
      return createPrivateKey({ key: decryptCosignKey(pem, password), format: 'der', type: 'pkcs8' });
    } catch (err) {
      const why =
        err instanceof CosignKeyError ? err.message : `not a PKCS#8 private key (${(err as Error).message})`;
      throw new SignError('KEY_ERROR', `cannot open private key ${path}: ${why}`, { cause: err });
    }
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
    // OpenSSL's own text ("DECODER routines::unsupported") tells a user nothing: say what the file is not.
    const why = encrypted
      ? 'wrong password, or not a PKCS#8 key'
      : /-----BEGIN (PUBLIC KEY|CERTIFICATE)-----/.test(pem)
        ? 'it holds a public key or certificate; signing needs the private key (e.g. cosign.key)'
        : 'not a private key in a format sigil reads (cosign.key, or PKCS#8 / SEC 1 PEM)';
    throw new SignError('KEY_ERROR', `cannot open private key ${path}: ${why}`, { cause: err });
  }
}

/** A public key from its PEM text (SPKI, or a certificate's key); `path` names it in errors. */
export function publicKeyFromPem(pem: string, path: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch (err) {
    throw new SignError(
      'KEY_ERROR',
      `${path} is not a public key in a format sigil reads (PEM "PUBLIC KEY" or "CERTIFICATE"${/PRIVATE KEY-----/.test(pem) ? '; it holds a private key: give the .pub file' : ''})`,
      { cause: err },
    );
  }
}
