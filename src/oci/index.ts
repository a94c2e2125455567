// Public interface of oci/: the OCI distribution client (references, auth, manifests, blobs, tags, referrers)
// and cosign's tag-based signature layout on top of it.
export {
  type Challenge,
  type Credentials,
  credentialsFromAuthFiles,
  parseWwwAuthenticate,
} from './auth.js';
export {
  type BlobSource,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_MANIFEST_BYTES,
  type FetchedManifest,
  type PushedManifest,
  type Referrers,
  RegistryClient,
  type RegistryClientOptions,
  type UploadOptions,
  type UploadOutcome,
} from './client.js';
export {
  appendCosignLayer,
  attestationTag,
  type CosignKind,
  type CosignLayer,
  type CosignSignatureFields,
  cosignAnnotations,
  cosignConfig,
  type NewCosignLayer,
  parseCosignAnnotations,
  readCosignLayers,
  signatureTag,
} from './cosign.js';
export { digestOf, isDigest, parseDigest, verifyDigest, verifyingStream } from './digest.js';
export { OciError, type OciErrorCode } from './errors.js';
export * from './media-types.js';
export {
  formatReference,
  type ImageReference,
  manifestReference,
  parseReference,
  repositoryName,
  withDigest,
  withTag,
} from './reference.js';
export { addReferrer, referrerDescriptor, referrersTag, removeReferrer } from './referrers.js';
export { isLoopbackHost } from './transport.js';
