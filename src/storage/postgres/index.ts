// PostgreSQL storage backends (ARCHITECTURE "storage backends"), chosen by server/ when `--database postgres://…`
// is given: the Merkle log engine's storage and the registry's metadata (docs/design/scale-out.md).
export {
  checkDatabase,
  LOG_SCHEMA_VERSION,
  openLogStorage,
  POSTGRES_LOG_STORAGE_MODULE,
  PostgresLogStorage,
  postgresLogStorage,
  safeDatabaseUrl,
  schemaFor,
} from './log.js';
export { PostgresRegistryMetadata, REGISTRY_SCHEMA_VERSION } from './registry.js';
