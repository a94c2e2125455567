#!/usr/bin/env node
// Entry point of the `sigil` command; the code lives in dist/ (built by `npm ci` through the prepare script).
// Client verbs (sign, verify, log, …) take a lean path that does not load the servers (src/cli/client.ts),
// bundled into one file (scripts/bundle-client.mjs) because start-up time is most of a CLI run.
// Built-ins through process.getBuiltinModule, not `import`: an ES module import builds the built-in's ESM facade,
// which reads every lazy export (node:fs's loads fs/promises and readline), start-up a short command pays for.
const fs = process.getBuiltinModule('node:fs');
const { createRequire, enableCompileCache } = process.getBuiltinModule('node:module');

// A reader that stops early (`sigil … | head`) is not an error: exit quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err) => process.exit(err.code === 'EPIPE' ? 0 : 1));

/**
 * Loads the client bundle with its compiled code kept between runs: compiling it is most of a warm command's
 * start-up. Node 22.1+ keeps it itself (module.enableCompileCache). Node 20 has no such cache, so the bundle is
 * compiled here as Node compiles a CommonJS file, with V8's code cache from the last run; after a run without a
 * usable one, the code compiled by then is written for the next (in the user's cache directory, 0600, named by
 * Node's version and the bundle's size and time, so another build or Node never reads it).
 */
function loadClientBundle(file) {
  if (enableCompileCache) {
    enableCompileCache();
    return createRequire(import.meta.url)(file);
  }
  const { dirname, isAbsolute, join } = process.getBuiltinModule('node:path');
  const vm = process.getBuiltinModule('node:vm');
  const source = fs.readFileSync(file, 'utf8');
  const stat = fs.statSync(file);
  const xdg = process.env.XDG_CACHE_HOME;
  const cacheDir = join(
    xdg && isAbsolute(xdg) ? xdg : join(process.getBuiltinModule('node:os').homedir(), '.cache'),
    'sigil',
  );
  const cacheFile = join(
    cacheDir,
    `client-${process.version}-${process.arch}-${stat.size}-${Math.trunc(stat.mtimeMs)}.v8`,
  );
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // first run of this build (or no cache directory): compiled from source
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  if (!cachedData || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
        const partial = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(partial, cacheFile);
        // Caches of builds not run for a month go (each rebuild makes a new one).
        for (const name of fs.readdirSync(cacheDir)) {
          const old = join(cacheDir, name);
          if (name.startsWith('client-') && Date.now() - fs.statSync(old).mtimeMs > 30 * 86_400_000)
            fs.rmSync(old, { force: true });
        }
      } catch {
        // a read-only home: every run compiles, as without a cache
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

const bundled = new URL('../dist/client/sigil-client.cjs', import.meta.url);
const { CLIENT_VERBS, clientMain, describeError, exitCodeOf } = fs.existsSync(bundled)
  ? loadClientBundle(process.getBuiltinModule('node:url').fileURLToPath(bundled))
  : await import(new URL('../dist/cli/client.js', import.meta.url).href);
// The verb is the first word after cosign's persistent flags (-t/--timeout DURATION, -d/--verbose), which the
// client verbs take anywhere on the line.
let at = 2;
for (;;) {
  const a = process.argv[at];
  if (a === '-t' || a === '--timeout') at += 2;
  else if (a?.startsWith('--timeout=') || a === '-d' || a?.startsWith('--verbose')) at += 1;
  else break;
}
const run = CLIENT_VERBS.has(process.argv[at]) ? clientMain : (await import('../dist/cli/main.js')).main;

// One line that says what to do, never Node's or OpenSSL's own text (src/cli/errors.ts); cosign's exit codes.
run(process.argv).catch((err) => {
  process.stderr.write(`Error: ${describeError(err)}\n`);
  if (process.env.SIGIL_DEBUG && err?.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(exitCodeOf(err));
});
