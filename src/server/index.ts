// Public interface of the server component: composing services on one HTTP server.

export type { Service } from '../service/index.js';
export { createApp, lateUrl, type RunningServer, startServer } from './app.js';
export { type CaStackOptions, createCaStack } from './ca-stack.js';
export { prepareDataDir } from './data-dir.js';
export { migrateToPostgres } from './migrate.js';
export { serviceFactories, serviceNames } from './registry-of-services.js';
export { describeEndpoints, ENDPOINTS_FILE, type Endpoints, startStack } from './stack.js';
export {
  logService,
  logStorage,
  logV2Service,
  oidcStores,
  openRegistry,
  registryService,
  useDatabase,
} from './storage.js';
export { trustTargets } from './trust-targets.js';
