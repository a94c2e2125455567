// PostgreSQL storage backends (ARCHITECTURE "storage backends"), chosen by server/ when `--database postgres://…`
// is given: the Merkle log engine's storage so far (docs/design/scale-out.md says what follows).
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
