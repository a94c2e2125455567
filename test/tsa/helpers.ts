// What the timestamp tests share: a key-signed message bundle whose only time of signing is its RFC 3161
// timestamps (the verifier's policy names the key, so the bundle needs no certificate and no log entry).
import { createHash } from 'node:crypto';

export function timestampedBundle(artifact: Buffer, signature: Buffer, timestamps: Buffer[]) {
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      publicKey: { hint: '' },
      tlogEntries: [],
      timestampVerificationData: {
        rfc3161Timestamps: timestamps.map((t) => ({ signedTimestamp: t.toString('base64') })),
      },
    },
    messageSignature: {
      messageDigest: {
        algorithm: 'SHA2_256',
        digest: createHash('sha256').update(artifact).digest('base64'),
      },
      signature: signature.toString('base64'),
    },
  };
}
