// Who signs: a SigningIdentity is a key plus what vouches for it — a short-lived certificate from the CA
// (keyless: ephemeral P-256 key, identity token, proof of possession) or nothing but the key (key-based). It signs
// bytes and tells the log and the bundle how to name the signer.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { localSigner, type Signer } from '../crypto/index.js';
import { parseCertificate } from '../formats/index.js';
import { SignError } from './errors.js';
import { type CertificateChain, requestSigningCertificate } from './fulcio.js';
import type { HttpOptions } from './http.js';
import type { IdentityToken } from './identity.js';
import { ephemeralKey } from './keys.js';

export interface SigningIdentity {
  signer: Signer;
  /** Keyless: the chain the CA returned, leaf first. */
  certificate?: CertificateChain;
  /** The PEM a log entry names the signer by: the leaf certificate, or the public key. */
  readonly logVerifierPem: string;
  /** Key-based bundles name the key by this hint (hex SHA-256 of the SPKI). */
  readonly keyHint: string;
}

function spkiPem(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

function hintOf(key: KeyObject): string {
  return createHash('sha256')
    .update(createPublicKey(key).export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** Key-based signing with a key the caller holds. */
export function keyIdentity(privateKey: KeyObject): SigningIdentity {
  return {
    signer: localSigner(privateKey),
    logVerifierPem: spkiPem(privateKey),
    keyHint: hintOf(privateKey),
  };
}

/** Keyless: a fresh P-256 key certified by the CA for the identity in `token`. The key never leaves memory. */
export async function keylessIdentity(
  fulcioUrl: string,
  token: IdentityToken,
  options: HttpOptions = {},
): Promise<SigningIdentity> {
  const key = ephemeralKey();
  const certificate = await requestSigningCertificate(fulcioUrl, token, key, options);
  // A CA that certified some other key would make every signature unverifiable; catch it here, not later.
  const leafKey = parseCertificate(certificate.chain[0]).spki;
  if (!leafKey.equals(createPublicKey(key).export({ type: 'spki', format: 'der' }))) {
    throw new SignError('CA_ERROR', 'the CA returned a certificate for a different public key');
  }
  return {
    signer: localSigner(key),
    certificate,
    logVerifierPem: certificate.chainPem[0],
    keyHint: hintOf(key),
  };
}
