// Starting a worker thread on one of sigil's own modules. Built code starts the compiled .js; when running from
// the TypeScript sources (tests, benches through tsx) the .ts next to it is loaded through tsx's loader (a dev
// dependency), registered inside the worker before the module is imported, since a worker does not inherit it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Transferable, Worker } from 'node:worker_threads';

/**
 * The module a worker should import for `js` (new URL('./x.js', import.meta.url)): the .js when it was built,
 * else its .ts source. A module handed to a worker by URL (a plugin the worker loads) is resolved with it too.
 */
export function workerModule(js: URL): URL {
  return existsSync(fileURLToPath(js)) ? js : new URL(js.href.replace(/\.js$/, '.ts'));
}

/** `transferList` names what in `workerData` is moved rather than copied (a MessagePort). */
export function startWorker(js: URL, workerData?: unknown, transferList?: Transferable[]): Worker {
  const module = workerModule(js);
  if (module === js) return new Worker(js, { workerData, transferList });
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(boot, { eval: true, workerData, transferList });
}
