// Client of a Fulcio-compatible CA (sigstore/fulcio fulcio.proto CreateSigningCertificate, HTTP/JSON mapping
// POST /api/v2/signingCert): sends the identity token, the public key and a proof of possession (the key's
// signature over the token's challenge claim) and gets back the certificate chain with the SCT embedded.
import { createPublicKey, type KeyObject, sign } from 'node:crypto';
import { pemToDer, toPem } from '../formats/index.js';
import { SignError } from './errors.js';
import { type HttpOptions, joinUrl, requestJson } from './http.js';
import { challengeOf, type IdentityToken } from './identity.js';

export interface CertificateChain {
  /** DER, leaf first. */
  chain: Buffer[];
  /** PEM of each, leaf first. */
  chainPem: string[];
}

interface SigningCertResponse {
  signedCertificateEmbeddedSct?: { chain?: { certificates?: string[] } };
  signedCertificateDetachedSct?: { chain?: { certificates?: string[] } };
}

/** The proof of possession Fulcio checks: a signature with the private key over the challenge claim. */
export function proofOfPossession(privateKey: KeyObject, token: IdentityToken): Buffer {
  const hash = privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return sign(hash, Buffer.from(challengeOf(token.claims), 'utf8'), privateKey);
}

export async function requestSigningCertificate(
  fulcioUrl: string,
  token: IdentityToken,
  privateKey: KeyObject,
  options: HttpOptions = {},
): Promise<CertificateChain> {
  const publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const url = joinUrl(fulcioUrl, '/api/v2/signingCert');
  const res = await requestJson<SigningCertResponse>(
    'CA_ERROR',
    'certificate request',
    url,
    {
      body: {
        credentials: { oidcIdentityToken: token.token },
        publicKeyRequest: {
          publicKey: { algorithm: 'ECDSA', content: publicPem },
          proofOfPossession: proofOfPossession(privateKey, token).toString('base64'),
        },
      },
    },
    options,
  );
  const pems =
    res.body?.signedCertificateEmbeddedSct?.chain?.certificates ??
    res.body?.signedCertificateDetachedSct?.chain?.certificates;
  if (!Array.isArray(pems) || pems.length === 0) {
    throw new SignError('CA_ERROR', `certificate request: ${url} returned no certificate chain`);
  }
  const chain = pems.flatMap((p) => pemToDer(String(p)));
  if (chain.length === 0)
    throw new SignError('CA_ERROR', 'certificate request: the chain holds no PEM certificate');
  return { chain, chainPem: chain.map((d) => toPem(d)) };
}
