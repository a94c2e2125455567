#!/usr/bin/env node
// Entry point of the `sigil` command; the code lives in dist/ (built by `npm ci` through the prepare script).
// Client verbs (sign, verify, log, …) take a lean path that does not load the servers (src/cli/client.ts),
// bundled into one file (scripts/bundle-client.mjs) because start-up time is most of a CLI run.
// Built-ins through process.getBuiltinModule, not `import`: an ES module import builds the built-in's ESM facade,
// which reads every lazy export (node:fs's loads fs/promises and readline), start-up a short command pays for.
const { existsSync } = process.getBuiltinModule('node:fs');

// Node 22.1+ keeps compiled code between runs (most of a short command's start-up); older Node has no such cache.
process.getBuiltinModule('node:module').enableCompileCache?.();

// A reader that stops early (`sigil … | head`) is not an error: exit quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err) => process.exit(err.code === 'EPIPE' ? 0 : 1));

const bundled = new URL('../dist/client/sigil-client.mjs', import.meta.url);
const { CLIENT_VERBS, clientMain, describeError, exitCodeOf } = await import(
  existsSync(bundled) ? bundled.href : new URL('../dist/cli/client.js', import.meta.url).href
);
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
