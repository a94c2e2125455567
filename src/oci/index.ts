// Public interface of oci/: the OCI distribution client (references, auth, manifests, blobs, tags, referrers)
// and cosign's tag-based signature layout on top of it.

// The media types and manifest shapes live in formats/ (the registry speaks them too).
export {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  isIndexMediaType,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_EMPTY_DIGEST,
  OCI_INDEX,
  OCI_LAYER_TAR,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
} from '../formats/index.js';
export { credentialsFromAuthFiles, credentialsFromHelper, parseWwwAuthenticate } from './auth.js';
export { type BlobSource, RegistryClient, type RegistryClientOptions, type UploadOutcome } from './client.js';
export {
  appendCosignLayer,
  attestationTag,
  type CosignKind,
  type CosignLayer,
  type CosignSignatureFields,
  cosignAnnotations,
  type ImageTarget,
  readCosignLayers,
  resolveImage,
  signatureRepoOf,
  signatureTag,
} from './cosign.js';
export { digestOf } from './digest.js';
export { OciError } from './errors.js';
export {
  formatReference,
  type ImageReference,
  manifestReference,
  parseReference,
  repositoryName,
} from './reference.js';
export { referrersTag } from './referrers.js';
export { layoutStore, registryStore, transferImage } from './transfer.js';
