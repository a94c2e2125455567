// ECDSA signing with a P-256 / P-384 key this process holds (the CA's keys, the CT and transparency logs' keys).
// With sigil's native addon (native.ts) the key is handed to OpenSSL once and each signature is one
// ECDSA_do_sign over a SHA-256/384 digest made here: ~28 µs per P-256 signature of a 1 KB certificate against
// ~35 µs for node:crypto's sign(), which sets up fresh key, digest and signature contexts on every call (a
// certificate takes three signatures). Without the addon (or SIGIL_NATIVE=0), node:crypto signs.
// Either way the output is the DER ECDSA-Sig-Value (RFC 3279 §2.2.3) that node:crypto's sign() returns.
import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { type NativeCrypto, nativeCrypto } from './native.js';

export interface EcdsaSigningKey {
  readonly curve: 'P-256' | 'P-384';
  /** True when the native addon signs. */
  readonly native: boolean;
  /** The DER signature over SHA-256 (P-256) or SHA-384 (P-384) of `message`. */
  sign(message: Uint8Array): Buffer;
}

const CURVES = {
  prime256v1: { curve: 'P-256', hash: 'sha256', id: 1 },
  secp384r1: { curve: 'P-384', hash: 'sha384', id: 2 },
} as const;

/**
 * A signing key for an ECDSA P-256 / P-384 private KeyObject; undefined for any other key. The native key is
 * checked once by signing a test message and verifying it with node:crypto against the KeyObject's public key,
 * so a handle that disagrees with the key it was made from is never used.
 */
export function ecdsaSigningKey(
  privateKey: KeyObject,
  { native = nativeCrypto }: { native?: NativeCrypto | false } = {},
): EcdsaSigningKey | undefined {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ec') return undefined;
  const named = privateKey.asymmetricKeyDetails?.namedCurve;
  const c = named === 'prime256v1' || named === 'secp384r1' ? CURVES[named] : undefined;
  if (!c) return undefined;
  const fallback: EcdsaSigningKey = {
    curve: c.curve,
    native: false,
    sign: (message) => sign(c.hash, message, privateKey),
  };
  const addon = native === false ? undefined : native;
  if (!addon?.signingKey || !addon.sign) return fallback;
  const nativeSign = addon.sign;
  const d = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
  const handle = addon.signingKey(c.id, d);
  d.fill(0);
  const key: EcdsaSigningKey = {
    curve: c.curve,
    native: true,
    sign: (message) => nativeSign(handle, createHash(c.hash).update(message).digest()),
  };
  const probe = Buffer.from('sigil ecdsa signing key self-check');
  if (!verify(c.hash, probe, createPublicKey(privateKey), key.sign(probe)))
    throw new Error('the native ECDSA key does not match its KeyObject');
  return key;
}
