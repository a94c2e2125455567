// Starting a worker thread on one of sigil's own modules: from dist/ it is the compiled .js; when running from
// sources (tests, tsx) it is the .ts next to the caller, loaded through tsx, whose loader a worker does not inherit.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** `base` is the caller's import.meta.url; `name` the module's file name without extension. */
export function spawnModuleWorker(base: string, name: string, workerData: unknown): Worker {
  const js = new URL(`./${name}.js`, base);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData });
  const ts = new URL(`./${name}.ts`, base).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(ts)}); });`;
  return new Worker(boot, { eval: true, workerData });
}
