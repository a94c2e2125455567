// Bundles the client verbs (sign, verify, log, ...) into one ES module, dist/client/sigil-client.mjs. A CLI run's
// start-up is mostly module loading and compiling: one file instead of a few hundred (and no CommonJS export
// scanning) cut `sigil sign`/`verify` CPU by about a third, and minifying leaves less source to compile per run.
// Heavy modules stay lazily evaluated (esbuild keeps dynamic imports as deferred initializers). Not split into
// chunks: esbuild's splitting reorders tuf-js's CommonJS class hierarchy ("Class extends value undefined" in
// `sigil initialize --mirror`). The server side (`sigil up`, `serve`) runs unbundled from dist/.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

await rm('dist/client', { recursive: true, force: true });
await build({
  entryPoints: { 'sigil-client': 'src/cli/client.ts' },
  outdir: 'dist/client',
  outExtension: { '.js': '.mjs' },
  minify: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The native SQLite binding is a server dependency and cannot be bundled. The libraries only some verbs load
  // (dynamic imports: pkijs/asn1js for timestamps, tuf-js for `initialize --mirror`) stay in node_modules: in the
  // bundle they were 60% of the source every command compiles (29 ms of a `sigil verify`) though evaluated lazily.
  external: ['better-sqlite3', 'pkijs', 'asn1js', 'tuf-js', 'tuf-js/*'],
  // CommonJS dependencies inside an ES module bundle still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __sigilCreateRequire } from 'node:module'; const require = __sigilCreateRequire(import.meta.url);",
  },
  sourcemap: true,
  logLevel: 'warning',
});
