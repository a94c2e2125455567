// Public interface of crypto/: keys in the data dir, the Signer interface, hashing and durable file writes.
import { createHash } from 'node:crypto';

export { type EcdsaSigningKey, ecdsaSigningKey } from './ecdsa-sign.js';
export { type AtomicWriteOptions, syncDir, writeFileAtomic } from './files.js';
export {
  generateKey,
  type KeyKind,
  keyId,
  keyValidFrom,
  loadOrCreatePrivateKey,
  localSigner,
  publicKeyPem,
  type Signer,
  signatureDigest,
  signFunction,
  spkiDer,
  validFromPath,
  verifySignature,
} from './keys.js';

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}
export {
  batchInverse,
  type Curve,
  type DigestCheck,
  type DigestCheckOptions,
  decodePoint,
  P256,
  P384,
  type Point,
  parseEcdsaSignature,
  verifyEcdsaDigest,
  verifyEcdsaDigests,
} from './ecdsa-digest.js';
export { type NativeCrypto, type NativeKeyHandle, nativeCrypto } from './native.js';
