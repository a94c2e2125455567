// Public interface of workers/: starting worker threads on sigil's own modules (from dist/ or the sources) and
// the request/response helper most of them speak. Shared by every engine that uses threads (the CA's issue pool,
// the CT tree, the log's validation and writer threads).
export { answerCalls, type Calls, callsOver } from './calls.js';
export { startWorker, workerModule } from './start.js';
