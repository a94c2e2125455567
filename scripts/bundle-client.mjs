// Bundles the client verbs (sign, verify, log, ...) into one CommonJS file, dist/client/sigil-client.cjs, which
// bin/sigil.js loads with V8's compiled code kept between runs (bin/sigil.js). A CLI run's start-up is mostly
// loading and compiling modules: one file instead of a few hundred, and with its compiled code cached, compiling
// is gone from a warm run on every Node (Node 22+'s own compile cache, or bin/sigil.js's on Node 20, which has none
// for ES modules). Modules are still evaluated only when a command imports them: esbuild turns each dynamic
// import() of a bundled module into a lazy initializer, so a verify does not run pkijs or the monitor.
// What stays outside: Node's built-ins and tuf-js (only `initialize --mirror` loads it), required at run time;
// better-sqlite3 is the servers'. The server side (`sigil up`, `serve`) runs unbundled from dist/.
import { rm } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { build } from 'esbuild';

const EXTERNAL = /^(tuf-js|better-sqlite3)(\/|$)/;

/**
 * A dynamic import() of a module left outside the bundle (a built-in, tuf-js) becomes a require(): a CommonJS
 * file run from V8's code cache has no ES module loader to answer import(). Both are CommonJS anyway.
 */
const dynamicImportsAsRequire = {
  name: 'dynamic-imports-as-require',
  setup(b) {
    b.onResolve({ filter: /^[@a-z_:/.-]+$/ }, (args) => {
      if (!isBuiltin(args.path) && !EXTERNAL.test(args.path)) return undefined;
      if (args.kind === 'dynamic-import') return { path: args.path, namespace: 'required' };
      return { path: args.path, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'required' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

await rm('dist/client', { recursive: true, force: true });
await build({
  entryPoints: { 'sigil-client': 'src/cli/client.ts' },
  outfile: 'dist/client/sigil-client.cjs',
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  plugins: [dynamicImportsAsRequire],
  // Modules find their neighbours (the native addon, the monitor's worker, package.json) from their own URL;
  // in the bundle that is the bundle's, in dist/client/, as the modules' were in dist/<component>/.
  define: { 'import.meta.url': '__sigilBundleUrl', 'import.meta.dirname': '__dirname' },
  banner: { js: "const __sigilBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  sourcemap: true,
  logLevel: 'warning',
});
