// Public interface of the registry component: the OCI distribution-spec v1.1 registry (service, engine, users,
// garbage collection) and the storage interfaces its backends implement. Other components import only from here.
export { type Access, type Action, addUser, type UserGrant } from './auth.js';
export {
  DEFAULT_GC_GRACE_MS,
  type GcOptions,
  type GcReport,
  Registry,
  type StoredManifest,
} from './engine.js';
export { type ErrorCode, RegistryError } from './errors.js';
export {
  type Descriptor,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  MAX_MANIFEST_BYTES,
  OCI_INDEX,
  OCI_MANIFEST,
} from './manifests.js';
export type { DigestAlgorithm, ParsedDigest } from './names.js';
export {
  createRegistryService,
  type RegistryConfig,
  type RegistryServiceOptions,
  readRegistryConfig,
  registryRoot,
} from './service.js';
export type {
  BlobReader,
  BlobStorage,
  ManifestRecord,
  NewManifest,
  Referrer,
  RegistryMetadata,
  RegistryStorage,
  UploadInfo,
} from './storage.js';
export type { RegistryLimits } from './uploads.js';
