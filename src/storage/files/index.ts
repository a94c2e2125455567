// File-system storage backends, one per engine that keeps bytes (ARCHITECTURE "storage backends").
export { FileBlobStorage } from './registry.js';
