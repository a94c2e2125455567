// Which key the monitor checks checkpoints with when it is a log key given as a PEM file (--log-key: any log, e.g.
// a public Rekor v2 shard). It becomes verify/'s TrustMaterial, as a trusted root's logs do, so the one
// checkpoint check of verify/ decides.
import { createHash, createPublicKey } from 'node:crypto';
import type { TrustMaterial } from '../verify/index.js';

/**
 * A trust material holding only `pem`'s key. Its log ID is SHA-256 of the DER SubjectPublicKeyInfo (Rekor v1's
 * checkpoint key hint); an Ed25519 key also gets the C2SP signed-note key ID for the checkpoint's key name, which
 * is the origin (SHA-256(name || "\n" || 0x01 || key)[:4]).
 */
export function trustFromKey(pem: string): (origin: string) => TrustMaterial {
  const key = createPublicKey(pem);
  const spki = key.export({ type: 'spki', format: 'der' });
  const logId = createHash('sha256').update(spki).digest();
  const ed25519 = key.asymmetricKeyType === 'ed25519';
  return (origin) => {
    // Rekor v2's key name is its origin; an ECDSA (v1) checkpoint is hinted by the log ID instead.
    const name = origin;
    const checkpointKeyId = ed25519
      ? createHash('sha256')
          .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.of(1), spki.subarray(spki.length - 32)]))
          .digest()
          .subarray(0, 4)
      : undefined;
    const log = {
      baseUrl: '',
      logId,
      checkpointKeyId,
      key,
      hash: ed25519 ? null : 'sha256',
      validFor: { start: 0, end: 8.64e15 },
    };
    return {
      certificateAuthorities: [],
      timestampAuthorities: [],
      tlogs: new Map([[logId.toString('hex'), [log]]]),
      ctlogs: new Map(),
    };
  };
}
