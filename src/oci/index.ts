// Public interface of oci/: the OCI distribution client (references, auth, manifests, blobs, tags, referrers)
// and cosign's tag-based signature layout on top of it.

// The media types and manifest shapes live in formats/ (the registry speaks them too).
export {
  bareMediaType,
  type Descriptor,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  type ImageIndex,
  type ImageManifest,
  isIndexMediaType,
  MANIFEST_ACCEPT,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_EMPTY_DIGEST,
  OCI_INDEX,
  OCI_LAYER_TAR,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
} from '../formats/index.js';
export {
  type Challenge,
  type Credentials,
  credentialsFromAuthFiles,
  credentialsFromHelper,
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
  type ImageTarget,
  type NewCosignLayer,
  parseCosignAnnotations,
  readCosignLayers,
  resolveImage,
  signatureTag,
} from './cosign.js';
export { digestOf, parseDigest, verifyDigest, verifyingStream } from './digest.js';
export { OciError, type OciErrorCode } from './errors.js';
export {
  formatReference,
  type ImageReference,
  manifestReference,
  parseReference,
  repositoryName,
} from './reference.js';
export { addReferrer, referrerDescriptor, referrersTag } from './referrers.js';
export {
  type ImageStore,
  layoutStore,
  registryStore,
  type TransferReport,
  transferImage,
} from './transfer.js';
export { isLoopbackHost } from './transport.js';
