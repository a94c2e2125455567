// Bundles the client verbs (sign, verify, log, ...) into ES modules under dist/client/: the entry
// (sigil-client.mjs) and chunks for what only some verbs load (dynamic imports: the timestamp libraries, the
// monitor, ...). A CLI run's start-up is mostly module loading and compiling: a few files instead of a few hundred
// (and no CommonJS export scanning) cut `sigil sign`/`verify` CPU by about a third, and each command compiles only
// the chunks it imports (a verify no longer compiles pkijs: 29 ms in a profile). tuf-js, which only
// `initialize --mirror` loads, stays in node_modules: esbuild's splitting reorders its CommonJS class hierarchy
// ("Class extends value undefined"). The server side (`sigil up`, `serve`) runs unbundled from dist/.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

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
  // CommonJS dependencies inside an ES module bundle still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __sigilCreateRequire } from 'node:module'; const require = __sigilCreateRequire(import.meta.url);",
  },
  sourcemap: true,
  logLevel: 'warning',
});
