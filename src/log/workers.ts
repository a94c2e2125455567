// Starting the log's worker threads (validation-pool.ts, storage/sqlite-writer.ts). Built code starts the compiled
// .js sibling; when running from the TypeScript sources (tests, benches through tsx) the .ts is loaded through
// tsx's loader (a dev dependency), registered inside the worker before the module is imported.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Transferable, Worker } from 'node:worker_threads';

/**
 * `js` is the URL of the worker module's compiled .js file (new URL('./x.js', import.meta.url)); `transferList`
 * names what in `workerData` is moved rather than copied (a MessagePort).
 */
export function startWorker(js: URL, workerData?: unknown, transferList?: Transferable[]): Worker {
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData, transferList });
  const ts = js.href.replace(/\.js$/, '.ts');
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(ts)}); });`;
  return new Worker(boot, { eval: true, workerData, transferList });
}
