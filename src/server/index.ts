// Public interface of the server component: composing services on one HTTP server.

export type { Service, ServiceContext } from '../service/index.js';
export {
  combineServices,
  createApp,
  DEFAULT_BODY_LIMIT,
  lateUrl,
  type RunningServer,
  type ServerOptions,
  startServer,
} from './app.js';
export {
  type CaStackOptions,
  caStackFactory,
  createCaStack,
  oidcServiceFactory,
} from './ca-stack.js';
export { ctServiceFactory, type OpenedCt, openCtLog } from './ct.js';
export { DataDirError, PRIVATE_UMASK, prepareDataDir } from './data-dir.js';
export { serviceFactories, serviceNames } from './registry-of-services.js';
export {
  describeEndpoints,
  ENDPOINTS_FILE,
  type Endpoints,
  endpointsFor,
  REGISTRY_AUTH_FILE,
  type StackOptions,
  startStack,
} from './stack.js';
export {
  logService,
  logStorage,
  logV2Service,
  openRegistry,
  openRegistryStorage,
  registryService,
  useDatabase,
} from './storage.js';
export {
  SIGNING_CONFIG_FILE,
  TRUSTED_ROOT_FILE,
  type TransparencyLogRef,
  type TrustFileInputs,
  trustFilesService,
} from './trust-files.js';
export { trustTargets } from './trust-targets.js';
