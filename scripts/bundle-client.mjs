// Bundles the client verbs (sign, verify, log, ...) into ES modules under dist/client/: the entry
// (sigil-client.mjs) and chunks for what only some verbs load (dynamic imports: the timestamp libraries, the
// monitor, ...). A CLI run's start-up is mostly module loading and compiling: a few files instead of a few hundred
// (and no CommonJS export scanning) cut `sigil sign`/`verify` CPU by about a third, and each command compiles only
// the chunks it imports (a verify no longer compiles pkijs: 29 ms in a profile). tuf-js, which only
// `initialize --mirror` loads, stays in node_modules: esbuild's splitting reorders its CommonJS class hierarchy
// ("Class extends value undefined"). The server side (`sigil up`, `serve`) runs unbundled from dist/.
// Node built-ins are loaded with require(), not `import`: importing one as an ES module makes Node build its ESM
// facade, which reads every export, lazy getters included. On Node 24 `node:http`'s facade loads undici (its
// WebSocket/fetch classes) and `node:crypto`'s loads WebCrypto: 10–20 ms of a 100 ms command, for nothing used.

import { rm } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { build } from 'esbuild';

const requireHere = createRequire(import.meta.url);

/**
 * A stand-in ES module for a built-in: require() it and export its plain values. Accessor properties (the lazy
 * getters: crypto.webcrypto, fs.promises, http.WebSocket on Node 24, …) are left out, so nothing runs them;
 * importing one by name fails the build ("No matching export") rather than loading it at start-up unnoticed.
 */
function builtinStub(id) {
  const module = requireHere(id);
  const names = Object.keys(module).filter(
    (k) =>
      /^[A-Za-z_$][\w$]*$/.test(k) &&
      k !== 'default' &&
      'value' in Object.getOwnPropertyDescriptor(module, k),
  );
  return [
    `const m = require(${JSON.stringify(id)});`,
    'export default m;',
    ...names.map((k) => `export const ${k} = m.${k};`),
  ].join('\n');
}

/** Built-ins imported by the bundle become require() through the banner's createRequire (see above). */
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!isBuiltin(args.path)) return undefined;
      // require() calls (CommonJS dependencies, the stubs themselves) stay calls of the banner's require.
      if (args.kind === 'require-call' || args.namespace === 'builtin')
        return { path: args.path, external: true };
      return { path: args.path, namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: builtinStub(args.path),
      loader: 'js',
    }));
  },
};

await rm('dist/client', { recursive: true, force: true });
await build({
  entryPoints: { 'sigil-client': 'src/cli/client.ts' },
  outdir: 'dist/client',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunk-[hash]',
  splitting: true,
  minify: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The native SQLite binding is a server dependency and cannot be bundled.
  external: ['better-sqlite3', 'tuf-js', 'tuf-js/*'],
  // CommonJS dependencies and the stubs above call require() for Node built-ins; process.getBuiltinModule (Node
  // 20.16+) gives createRequire without building node:module's ESM facade.
  banner: {
    js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);",
  },
  plugins: [builtinsThroughRequire],
  sourcemap: true,
  logLevel: 'warning',
});
