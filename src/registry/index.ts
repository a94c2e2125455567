// Public interface of the registry component: the OCI distribution-spec v1.1 registry (service, engine, users,
// garbage collection). Other components import only from here.
export { type Access, type Action, addUser, type UserGrant } from './auth.js';
export {
  DEFAULT_GC_GRACE_MS,
  type GcOptions,
  type GcReport,
  Registry,
  registryRoot,
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
export {
  createRegistryService,
  type RegistryConfig,
  type RegistryServiceOptions,
  readRegistryConfig,
  registryServiceFactory,
} from './service.js';
