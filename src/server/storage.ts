// Which storage backend each engine gets (ARCHITECTURE: src/server/ is the only composition root). The registry:
// metadata in SQLite (PostgreSQL with --database) and blobs as files under <dataDir>/registry
// (docs/design/registry-storage.md). The
// Merkle log engine (the Rekor logs, the CT log's tree): SQLite (storage/sqlite/log/), or PostgreSQL
// (storage/postgres/) with --database.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogService, createRekorV2Service, type LogStorageChoice } from '../log/index.js';
import { fileOidcStores, type OpenOidcStores } from '../oidc/index.js';
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
  checkDatabase,
  POSTGRES_LOG_STORAGE_MODULE,
  PostgresRegistryMetadata,
  postgresLogStorage,
  postgresOidcStores,
} from '../storage/postgres/index.js';
import {
  openLogStorage,
  SQLITE_LOG_STORAGE_MODULE,
  SqliteRegistryMetadata,
} from '../storage/sqlite/index.js';

const sqliteLogStorage: LogStorageChoice = { open: openLogStorage, module: SQLITE_LOG_STORAGE_MODULE };

/**
 * The Merkle log engine's storage, for this thread and for threads that open it themselves (the CT tree's):
 * PostgreSQL when a database is configured (`--database`, which sets SIGIL_DATABASE_URL for the whole process,
 * worker threads included), else SQLite in the data dir.
 */
export function logStorage(): LogStorageChoice {
  const url = process.env.SIGIL_DATABASE_URL;
  return url ? { open: postgresLogStorage(url), module: POSTGRES_LOG_STORAGE_MODULE } : sqliteLogStorage;
}

/**
 * `--database URL`: checked (reachable, PostgreSQL) before anything starts on it, then made the process's choice
 * (SIGIL_DATABASE_URL, which worker threads inherit).
 */
export async function useDatabase(url: string | undefined): Promise<void> {
  const chosen = url ?? process.env.SIGIL_DATABASE_URL;
  if (!chosen) return;
  await checkDatabase(chosen);
  process.env.SIGIL_DATABASE_URL = chosen;
}

/** Where the CI issuer keeps runners and runs: PostgreSQL with a database (shared by every frontend), else files. */
export function oidcStores(): OpenOidcStores {
  const url = process.env.SIGIL_DATABASE_URL;
  return url ? postgresOidcStores(url) : fileOidcStores;
}

/** The transparency log service on a data dir's storage (`sigil serve log`, `sigil up`). */
export function logService(ctx: ServiceContext) {
  return createLogService(ctx, logStorage().open);
}

/** The Rekor v2 log service on a data dir's storage (`sigil serve log-v2`, `sigil up`). */
export function logV2Service(ctx: ServiceContext) {
  return createRekorV2Service(ctx, logStorage().open);
}

export async function openRegistryStorage(dataDir: string): Promise<RegistryStorage> {
  const root = registryRoot(dataDir);
  await mkdir(root, { recursive: true });
  const blobs = await FileBlobStorage.open(root);
  const url = process.env.SIGIL_DATABASE_URL;
  const metadata = url
    ? new PostgresRegistryMetadata(url)
    : new SqliteRegistryMetadata(join(root, 'metadata.sqlite'));
  return { metadata, blobs };
}

/** The registry engine on a data dir's storage, with default limits (`sigil registry gc`). */
export async function openRegistry(dataDir: string): Promise<Registry> {
  return new Registry(await openRegistryStorage(dataDir));
}

/** The registry service on a data dir's storage (`sigil serve registry`, `sigil up`). */
export function registryService(ctx: ServiceContext, options: RegistryServiceOptions = {}) {
  return createRegistryService(ctx, () => openRegistryStorage(ctx.dataDir), options);
}
