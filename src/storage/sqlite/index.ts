// SQLite storage backends, one per engine that keeps rows (ARCHITECTURE "storage backends").

export { exportSqliteLog, exportSqliteRegistry } from './export.js';
export { openLogStorage, openSqliteStorage, SQLITE_LOG_STORAGE_MODULE } from './log/sqlite.js';
export { SqliteRegistryMetadata } from './registry.js';
