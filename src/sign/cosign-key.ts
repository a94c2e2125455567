// cosign's encrypted private key format, which `cosign generate-key-pair` writes and `cosign sign --key` reads
// (sigstore/sigstore pkg/cryptoutils, on secure-systems-lab's `encrypted` package): a PEM block labelled
// "ENCRYPTED SIGSTORE PRIVATE KEY" (older cosign: "ENCRYPTED COSIGN PRIVATE KEY") around JSON
//   {"kdf": {"name": "scrypt", "params": {"N", "r", "p"}, "salt": b64},
//    "cipher": {"name": "nacl/secretbox", "nonce": b64}, "ciphertext": b64}
// whose ciphertext is NaCl secretbox (XSalsa20-Poly1305, from tweetnacl: node:crypto has no XSalsa20) under the
// scrypt-derived 32-byte key, over the PKCS#8 DER private key. sigil writes the same, so key pairs move freely
// between cosign and sigil.
import { randomBytes, scryptSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { pemToDer, toPem } from '../formats/index.js';

export const SIGSTORE_KEY_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const COSIGN_KEY_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';

/** cosign's scrypt cost (N = 2^16, r = 8, p = 1): ~64 MiB and a fraction of a second per open, on purpose. */
const WRITE_PARAMS = { N: 65536, r: 8, p: 1 };
/** scrypt needs 128·N·r·p bytes: cap it well above what cosign writes, so a hostile file cannot ask for gigabytes. */
const MAX_N = 2 ** 18;
const MAX_MEMORY = 256 * 2 ** 20;

export class CosignKeyError extends Error {}

/** True when `pem` holds a cosign-encrypted private key. */
export function isCosignEncryptedKey(pem: string): boolean {
  return (
    pem.includes(`-----BEGIN ${SIGSTORE_KEY_LABEL}-----`) ||
    pem.includes(`-----BEGIN ${COSIGN_KEY_LABEL}-----`)
  );
}

function pemBody(pem: string): Buffer {
  const [der] = [...pemToDer(pem, SIGSTORE_KEY_LABEL), ...pemToDer(pem, COSIGN_KEY_LABEL)];
  if (!der) throw new CosignKeyError('not a PEM block labelled ENCRYPTED SIGSTORE/COSIGN PRIVATE KEY');
  return der;
}

function b64(v: unknown, name: string, length?: number): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v))
    throw new CosignKeyError(`${name} must be base64`);
  const out = Buffer.from(v, 'base64');
  if (length !== undefined && out.length !== length) {
    throw new CosignKeyError(`${name} must be ${length} bytes, not ${out.length}`);
  }
  return out;
}

function scryptKey(password: string, salt: Buffer, { N, r, p }: { N: number; r: number; p: number }): Buffer {
  return scryptSync(Buffer.from(password, 'utf8'), salt, nacl.secretbox.keyLength, {
    N,
    r,
    p,
    maxmem: MAX_MEMORY + 2 ** 20,
  });
}

/** The PKCS#8 DER private key inside a cosign-encrypted PEM; CosignKeyError when malformed or the password is wrong. */
export function decryptCosignKey(pem: string, password: string): Buffer {
  let doc: {
    kdf?: { name?: unknown; params?: { N?: unknown; r?: unknown; p?: unknown }; salt?: unknown };
    cipher?: { name?: unknown; nonce?: unknown };
    ciphertext?: unknown;
  };
  try {
    doc = JSON.parse(pemBody(pem).toString('utf8'));
  } catch (err) {
    if (err instanceof CosignKeyError) throw err;
    throw new CosignKeyError('the encrypted key is not JSON');
  }
  if (doc?.kdf?.name !== 'scrypt') throw new CosignKeyError('unsupported key derivation (only scrypt)');
  if (doc.cipher?.name !== 'nacl/secretbox')
    throw new CosignKeyError('unsupported cipher (only nacl/secretbox)');
  const { N, r, p } = doc.kdf.params ?? {};
  const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  if (!int(N) || !int(r) || !int(p))
    throw new CosignKeyError('scrypt parameters N, r and p must be positive integers');
  if ((N as number) > MAX_N || (N as number) * (r as number) * (p as number) * 128 > MAX_MEMORY) {
    throw new CosignKeyError(`scrypt parameters are too costly (N at most ${MAX_N})`);
  }
  const salt = b64(doc.kdf.salt, 'kdf.salt');
  const nonce = b64(doc.cipher.nonce, 'cipher.nonce', nacl.secretbox.nonceLength);
  const ciphertext = b64(doc.ciphertext, 'ciphertext');
  let key: Buffer;
  try {
    key = scryptKey(password, salt, { N: N as number, r: r as number, p: p as number });
  } catch (err) {
    throw new CosignKeyError(`scrypt failed: ${(err as Error).message}`);
  }
  const plain = nacl.secretbox.open(ciphertext, nonce, key);
  key.fill(0);
  if (!plain) throw new CosignKeyError('wrong password (the key does not decrypt)');
  return Buffer.from(plain);
}

/** A cosign-encrypted PEM ("ENCRYPTED SIGSTORE PRIVATE KEY") of a PKCS#8 DER private key. */
export function encryptCosignKey(pkcs8: Uint8Array, password: string): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(nacl.secretbox.nonceLength);
  const key = scryptKey(password, salt, WRITE_PARAMS);
  const ciphertext = nacl.secretbox(pkcs8, nonce, key);
  key.fill(0);
  const json = JSON.stringify({
    kdf: { name: 'scrypt', params: WRITE_PARAMS, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  });
  return toPem(Buffer.from(json), SIGSTORE_KEY_LABEL);
}
