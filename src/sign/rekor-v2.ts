// A Rekor v2 log as a witness (sigstore/rekor-tiles: POST /api/v2/log/entries): the signature is logged as a
// hashedrekord v0.0.2, over the artifact's digest for a message signature and over the digest of the envelope's
// PAE for a DSSE envelope (how current clients log DSSE: rekor-tiles v2.3 dropped the dsse type). The answer is the
// bundle's TransparencyLogEntry as it is: inclusion proof and checkpoint, no signed entry timestamp, so a v2 log is
// always paired with a TSA witness for the time of signing.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import {
  hashedRekordRequestV2,
  keyDetails,
  pemToDer,
  preAuthEncoding,
  type V2Verifier,
} from '../formats/index.js';
import type { SignedContent } from './bundle.js';
import { SignError } from './errors.js';
import { type HttpOptions, joinUrl, requestJson } from './http.js';
import type { Witness } from './witness.js';

/** The PublicKeyDetails a key signs with by default (sigstore's GetDefaultAlgorithmDetails). */
export function defaultKeyDetails(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec' && d?.namedCurve === 'prime256v1') return 'PKIX_ECDSA_P256_SHA_256';
  if (key.asymmetricKeyType === 'ec' && d?.namedCurve === 'secp384r1') return 'PKIX_ECDSA_P384_SHA_384';
  if (key.asymmetricKeyType === 'rsa' && [2048, 3072, 4096].includes(d?.modulusLength ?? 0))
    return `PKIX_RSA_PKCS1V15_${d?.modulusLength}_SHA256`;
  throw new SignError(
    'KEY_ERROR',
    `a Rekor v2 log cannot take signatures of this key (${key.asymmetricKeyType})`,
  );
}

/** The verifier of a signer PEM (certificate or public key) as a v2 entry names it. */
function verifierOf(signerPem: string): V2Verifier {
  const certificate = signerPem.includes('BEGIN CERTIFICATE');
  const [der] = pemToDer(signerPem, certificate ? 'CERTIFICATE' : 'PUBLIC KEY');
  if (!der) throw new SignError('KEY_ERROR', 'the signer has no PEM certificate or public key');
  const details = keyDetails(defaultKeyDetails(createPublicKey(signerPem)));
  return { der, certificate, keyDetails: details as NonNullable<typeof details> };
}

export function rekorV2Witness(baseUrl: string, options: HttpOptions = {}): Witness {
  return {
    async testify(content: SignedContent, signerPem: string) {
      const verifier = verifierOf(signerPem);
      const digest = content.messageSignature
        ? content.messageSignature.digest
        : createHash('sha256')
            .update(
              preAuthEncoding(
                content.dsseEnvelope.payloadType,
                Buffer.from(content.dsseEnvelope.payload, 'base64'),
              ),
            )
            .digest();
      const signature = content.messageSignature
        ? content.messageSignature.signature
        : Buffer.from(content.dsseEnvelope.signatures[0].sig, 'base64');
      const res = await requestJson<Record<string, unknown>>(
        'LOG_ERROR',
        'transparency log upload',
        joinUrl(baseUrl, '/api/v2/log/entries'),
        { body: hashedRekordRequestV2(digest, signature, verifier) },
        options,
      );
      const entry = res.body;
      const proof = entry?.inclusionProof as { checkpoint?: unknown } | undefined;
      if (typeof entry?.logIndex !== 'string' || !proof?.checkpoint)
        throw new SignError(
          'LOG_ERROR',
          'transparency log upload: the answer has no log index or inclusion proof',
        );
      return { tlogEntries: [entry] };
    },
  };
}
