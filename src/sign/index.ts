// Public interface of sign/: the signing flows (keyless: token → ephemeral key → CA certificate → log entry →
// bundle / registry; key-based with key files) and their service clients (Fulcio v2, Rekor v1 and v2, RFC 3161 TSA). It only signs:
// every check of what was signed or logged is verify/'s, which `sigil sign` never loads.

export { toPem } from '../formats/index.js';
export { bundleReferrerManifest, OCI_CREATED_ANNOTATION } from './attach.js';
export { type SignedBlob, type SignedEnvelope, type SigningContext, signBlob, signDsse } from './blob.js';
export { type BundleInput, buildBundle, type DsseEnvelopeJson, type SignedContent } from './bundle.js';
export { SignError, type SignErrorCode } from './errors.js';
export { type CertificateChain, proofOfPossession, requestSigningCertificate } from './fulcio.js';
export { DEFAULT_TIMEOUT_MS, type HttpOptions } from './http.js';
export {
  actionsTokenUrl,
  challengeOf,
  DEFAULT_AUDIENCE,
  getIdentityToken,
  type IdentityToken,
  type TokenOptions,
  type TokenSource,
  tokenClaims,
} from './identity.js';
export {
  attestImage,
  type ImageAttestation,
  type ImageAttestationOptions,
  type ImageSignature,
  type ImageSigningOptions,
  sha256Digest,
  signImage,
} from './image.js';
export {
  encryptPrivateKey,
  ephemeralKey,
  type GeneratedKeyPair,
  generateKeyPair,
  keyNeedsPassword,
  loadPrivateKey,
  privateKeyFromPem,
  publicKeyFromPem,
  refuseExisting,
} from './keys.js';
export { buildStatement, PREDICATE_TYPES, predicateTypeUri, type StatementInput } from './predicate.js';
export { RekorClient, type RekorEntry } from './rekor.js';
export { defaultKeyDetails, rekorV2Witness } from './rekor-v2.js';
export { keyIdentity, keylessIdentity, type SigningIdentity } from './signer.js';
export { fetchTimestamp, signatureBytes, tsaWitness } from './timestamp.js';
export { rekorWitness, type Testimony, type Witness } from './witness.js';
