// Public interface of crypto/: keys in the data dir, the Signer interface, hashing and durable file writes.
import { createHash } from 'node:crypto';

export { ecdsaSigningKey } from './ecdsa-sign.js';
export { syncDir, writeFileAtomic } from './files.js';
export {
  generateKey,
  keyId,
  keyValidFrom,
  loadOrCreatePrivateKey,
  localSigner,
  publicKeyPem,
  type Signer,
  signFunction,
  spkiDer,
  validFromPath,
  verifySignature,
} from './keys.js';

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}
export {
  type Curve,
  type DigestCheck,
  decodePoint,
  P256,
  P384,
  type Point,
  parseEcdsaSignature,
  verifyEcdsaDigest,
  verifyEcdsaDigests,
} from './ecdsa-digest.js';
export { type NativeCrypto, type NativeKeyHandle, nativeCrypto } from './native.js';
