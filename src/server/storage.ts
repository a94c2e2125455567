// Which storage backend each engine gets (ARCHITECTURE: src/server/ is the only composition root). The registry:
// metadata in SQLite and blobs as files, both under <dataDir>/registry (docs/design/registry-storage.md).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createRegistryService,
  Registry,
  type RegistryServiceOptions,
  type RegistryStorage,
  registryRoot,
} from '../registry/index.js';
import type { ServiceContext } from '../service/index.js';
import { FileBlobStorage } from '../storage/files/index.js';
import { SqliteRegistryMetadata } from '../storage/sqlite/index.js';

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
