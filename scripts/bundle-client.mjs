// Bundles the client verbs (sign, verify, log, ...) into one ES module, dist/sigil-client.mjs. A CLI run's
// start-up is mostly module loading: one file instead of a few hundred (and no CommonJS export scanning) cuts
// `sigil sign`/`verify` CPU by about a third. Heavy modules stay lazily evaluated (esbuild keeps dynamic imports
// as deferred initializers). The server side (`sigil up`, `serve`) runs unbundled from dist/.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/client.ts'],
  outfile: 'dist/sigil-client.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The native SQLite binding is a server dependency and cannot be bundled.
  external: ['better-sqlite3'],
  // CommonJS dependencies inside an ES module bundle still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __sigilCreateRequire } from 'node:module'; const require = __sigilCreateRequire(import.meta.url);",
  },
  sourcemap: true,
  logLevel: 'warning',
});
