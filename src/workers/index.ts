// Public interface of workers/: starting worker threads on sigil's own modules, from dist/ or the sources. Shared
// by every engine that uses threads (the CA's issue pool, the CT tree, the log's validation and writer threads).
export { startWorker, workerModule } from './start.js';
