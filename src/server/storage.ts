// Which storage backend each engine gets (ARCHITECTURE: src/server/ is the only composition root). The registry:
// metadata in SQLite and blobs as files, both under <dataDir>/registry (docs/design/registry-storage.md). The
// Merkle log engine (the Rekor log, the CT log's tree): SQLite (storage/sqlite/log/).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogService, createRekorV2Service, type LogStorageChoice } from '../log/index.js';
import {
  createRegistryService,
  Registry,
  type RegistryServiceOptions,
  type RegistryStorage,
  registryRoot,
} from '../registry/index.js';
import type { ServiceContext } from '../service/index.js';
import { FileBlobStorage } from '../storage/files/index.js';
import {
  openLogStorage,
  SQLITE_LOG_STORAGE_MODULE,
  SqliteRegistryMetadata,
} from '../storage/sqlite/index.js';

/** The Merkle log engine's storage, for this thread and for threads that open it themselves (the CT tree's). */
export const logStorage: LogStorageChoice = { open: openLogStorage, module: SQLITE_LOG_STORAGE_MODULE };

/** The transparency log service on a data dir's storage (`sigil serve log`, `sigil up`). */
export function logService(ctx: ServiceContext) {
  return createLogService(ctx, logStorage.open);
}

/** The Rekor v2 log service on a data dir's storage (`sigil serve log-v2`, `sigil up`). */
export function logV2Service(ctx: ServiceContext) {
  return createRekorV2Service(ctx, logStorage.open);
}

export async function openRegistryStorage(dataDir: string): Promise<RegistryStorage> {
  const root = registryRoot(dataDir);
  await mkdir(root, { recursive: true });
  const blobs = await FileBlobStorage.open(root);
  return { metadata: new SqliteRegistryMetadata(join(root, 'metadata.sqlite')), blobs };
}

/** The registry engine on a data dir's storage, with default limits (`sigil registry gc`). */
export async function openRegistry(dataDir: string): Promise<Registry> {
  return new Registry(await openRegistryStorage(dataDir));
}

/** The registry service on a data dir's storage (`sigil serve registry`, `sigil up`). */
export function registryService(ctx: ServiceContext, options: RegistryServiceOptions = {}) {
  return createRegistryService(ctx, () => openRegistryStorage(ctx.dataDir), options);
}
