// ECDSA verification over a digest the caller already has (FIPS 186-5 §6.4.2), for when the artifact is given
// only as `sha256:<hex>` (the conformance protocol's FILE_OR_DIGEST). node:crypto always hashes the message
// itself; src/crypto's digest verifier (the one the log uses for hashedrekord) covers NIST P-256 and P-384.
import type { KeyObject } from 'node:crypto';
import { type Curve, decodePoint, P256, P384, verifyEcdsaDigest } from '../crypto/index.js';

const CURVES: Record<string, Curve> = { prime256v1: P256, secp384r1: P384 };

/** Verifies a DER ECDSA signature over `digest` with a P-256 or P-384 public key; false when it does not hold. */
export function verifyEcdsaPrehashed(key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType !== 'ec' || !curve) return false;
  const jwk = key.export({ format: 'jwk' });
  const point = decodePoint(
    curve,
    Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]),
  );
  return point !== undefined && verifyEcdsaDigest(curve, point, digest, signature);
}
