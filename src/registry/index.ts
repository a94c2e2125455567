// Public interface of the registry component: the OCI distribution-spec v1.1 registry (service, engine, users,
// garbage collection) and the storage interfaces its backends implement. Other components import only from here.
export { type Action, addUser } from './auth.js';
export { DEFAULT_GC_GRACE_MS, Registry } from './engine.js';
export { MAX_MANIFEST_BYTES } from './manifests.js';
export type { ParsedDigest } from './names.js';
export { createRegistryService, type RegistryServiceOptions, registryRoot } from './service.js';
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
