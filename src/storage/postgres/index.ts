// PostgreSQL storage backends (ARCHITECTURE "storage backends"), chosen by server/ when `--database postgres://…`
// is given: the Merkle log engine's storage, the CT log's entry queue and the registry's metadata
// (docs/design/scale-out.md).

export { openPostgresCtQueue } from './ct-queue.js';
export { importLog, importRegistry } from './import.js';
export { checkDatabase, POSTGRES_LOG_STORAGE_MODULE, postgresLogStorage, safeDatabaseUrl } from './log.js';
export { postgresOidcStores } from './oidc.js';
export { PostgresRegistryMetadata } from './registry.js';
