// SQLite storage backends, one per engine that keeps rows (ARCHITECTURE "storage backends").
export { SqliteRegistryMetadata } from './registry.js';
