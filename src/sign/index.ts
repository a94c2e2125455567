// Public interface of sign/: the signing flows (keyless: token → ephemeral key → CA certificate → log entry →
// bundle / registry; key-based with key files) and their service clients (Fulcio v2, Rekor v1 and v2, RFC 3161 TSA). It only signs:
// every check of what was signed or logged is verify/'s, which `sigil sign` never loads.

export { type SigningContext, signBlob, signDsse } from './blob.js';
export { buildBundle } from './bundle.js';
export { requestSigningCertificate } from './fulcio.js';
export { actionsTokenUrl, challengeOf, getIdentityToken, tokenClaims } from './identity.js';
export { attestImage, sha256Digest, signImage } from './image.js';
export {
  encryptPrivateKey,
  generateKeyPair,
  keyNeedsPassword,
  loadPrivateKey,
  privateKeyFromPem,
  publicKeyFromPem,
  refuseExisting,
} from './keys.js';
export { buildStatement, predicateTypeUri } from './predicate.js';
export { RekorClient, type RekorEntry } from './rekor.js';
export { rekorV2Witness } from './rekor-v2.js';
export { keyIdentity, keylessIdentity } from './signer.js';
export { fetchTimestamp, tsaWitness } from './timestamp.js';
export { rekorWitness, type Witness } from './witness.js';
