// Building Sigstore bundles v0.3 (sigstore/protobuf-specs protos/sigstore_bundle.proto, JSON mapping):
// verification material (the signing certificate alone, or a public key hint), the transparency log entries, and
// either a message signature over an artifact digest or a DSSE envelope. The reader is formats/bundle.ts.
import { BUNDLE_V03_MEDIA_TYPE } from '../formats/index.js';

/** What was signed, as the bundle holds it and witnesses see it: a message signature or a DSSE envelope. */
export type SignedContent =
  | { messageSignature: { digest: Buffer; signature: Buffer }; dsseEnvelope?: undefined }
  | { dsseEnvelope: DsseEnvelopeJson; messageSignature?: undefined };

export type BundleInput = SignedContent & {
  /** DER of the signing certificate (keyless); v0.3 carries the leaf only, the chain comes from the trusted root. */
  certificate?: Buffer;
  /** Key-based: a hint naming the key (cosign leaves it empty; sigil puts the key's SHA-256 there). */
  publicKeyHint?: string;
  /** sigstore_rekor.proto TransparencyLogEntry JSON values, from the witnesses. */
  tlogEntries: Record<string, unknown>[];
  /** RFC 3161 timestamp tokens over the signature, from TSA witnesses. */
  rfc3161Timestamps?: Buffer[];
};

/** DSSE envelope in its JSON form (secure-systems-lab/dsse envelope.md), as the bundle and cosign's `.att` hold it. */
export interface DsseEnvelopeJson {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

export function buildBundle(input: BundleInput): Record<string, unknown> {
  const material = input.certificate
    ? { certificate: { rawBytes: input.certificate.toString('base64') } }
    : { publicKey: { hint: input.publicKeyHint ?? '' } };
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: {
      ...material,
      tlogEntries: input.tlogEntries,
      timestampVerificationData: input.rfc3161Timestamps?.length
        ? {
            rfc3161Timestamps: input.rfc3161Timestamps.map((t) => ({
              signedTimestamp: t.toString('base64'),
            })),
          }
        : {},
    },
    ...(input.messageSignature
      ? {
          messageSignature: {
            messageDigest: {
              algorithm: 'SHA2_256',
              digest: input.messageSignature.digest.toString('base64'),
            },
            signature: input.messageSignature.signature.toString('base64'),
          },
        }
      : { dsseEnvelope: input.dsseEnvelope }),
  };
}
