// The client verbs of `sigil` (cosign's and rekor-cli's: sign, verify, attest, log, …) and a lean entry point for
// them. bin/sigil.js sends these verbs here, so that `sigil sign` / `sigil verify` load only commander and their
// own command modules — not the servers behind `sigil up` / `serve` (fastify, SQLite, …), which would add most of
// a second to every signature. Heavy modules are imported inside each action.
import { Command } from 'commander';
import { registerAboutCommands, sigilVersion } from './commands/about.js';
import { registerAttestCommands } from './commands/attest.js';
import { registerBlobCommands } from './commands/blob.js';
import { registerDownloadCommands } from './commands/download.js';
import { registerInitializeCommands } from './commands/initialize.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerLogCommands } from './commands/log.js';
import { registerLoginCommand } from './commands/login.js';
import { registerMonitorCommands } from './commands/monitor.js';
import { registerSignCommands } from './commands/sign.js';
import { registerTransferCommands } from './commands/transfer.js';
import { registerTreeCommands } from './commands/tree.js';
import { registerTriangulateCommands } from './commands/triangulate.js';
import { registerVerifyCommands } from './commands/verify.js';

import { CliError } from './errors.js';

export { describeError, exitCodeOf } from './errors.js';

/** Top-level verbs the lean entry point handles (verify-blob is the verifier's, and light too). */
export const CLIENT_VERBS = new Set([
  'sign',
  'sign-blob',
  'attest',
  'attest-blob',
  'verify',
  'verify-attestation',
  'verify-blob',
  'verify-blob-attestation',
  'generate-key-pair',
  'import-key-pair',
  'public-key',
  'initialize',
  'log',
  'login',
  'monitor',
  'tree',
  'triangulate',
  'download',
  'copy',
  'save',
  'load',
  'version',
  'env',
]);

/** Adds the client verbs (all but verify-blob, which main.ts registers from its own module). */
export function registerClientCommands(program: Command): void {
  registerSignCommands(program);
  registerBlobCommands(program);
  registerAttestCommands(program);
  registerVerifyCommands(program);
  registerKeyCommands(program);
  registerInitializeCommands(program);
  registerLogCommands(program);
  registerLoginCommand(program);
  registerMonitorCommands(program);
  registerTreeCommands(program);
  registerTriangulateCommands(program);
  registerDownloadCommands(program);
  registerTransferCommands(program);
  registerAboutCommands(program);
}

/** Go's time.ParseDuration for what cosign's --timeout takes: "3m0s", "90s", "1h30m", "500ms"; a bare number is seconds. */
export function parseGoDuration(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new CliError(`--timeout ${text}: not a duration (e.g. 30s, 3m0s, 1h)`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * units[p[2]], 0);
}

/**
 * cosign's persistent flags, taken from anywhere on a client verb's command line: -t/--timeout for the whole
 * command, -d/--verbose for HTTP request lines and stack traces on stderr.
 */
export function takeGlobalFlags(argv: string[]): { argv: string[]; timeoutMs?: number; verbose: boolean } {
  const out: string[] = [];
  let timeoutMs: number | undefined;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (i >= 2 && (a === '-t' || a === '--timeout')) {
      if (i + 1 >= argv.length) throw new CliError(`${a} needs a duration (e.g. 30s, 3m0s)`);
      timeoutMs = parseGoDuration(argv[++i]);
    } else if (i >= 2 && a.startsWith('--timeout='))
      timeoutMs = parseGoDuration(a.slice('--timeout='.length));
    else if (i >= 2 && (a === '-d' || a === '--verbose' || a === '--verbose=true')) verbose = true;
    else if (i >= 2 && a === '--verbose=false') verbose = false;
    else out.push(a);
  }
  return { argv: out, timeoutMs, verbose };
}

/** `sigil <client verb> …` without the server side of the program. */
export async function clientMain(rawArgv: string[]): Promise<void> {
  const { argv, timeoutMs, verbose } = takeGlobalFlags(rawArgv);
  if (verbose) process.env.SIGIL_DEBUG = '1';
  if (timeoutMs !== undefined) {
    setTimeout(() => {
      process.stderr.write(
        `Error: timed out after ${timeoutMs / 1000}s (-t/--timeout): pass a longer --timeout, or check that the services answer\n`,
      );
      process.exit(1);
    }, timeoutMs).unref();
  }
  const program = new Command();
  program
    .name('sigil')
    .version(sigilVersion())
    .option('-t, --timeout <duration>', 'give up after this long, e.g. 30s or 3m0s (cosign -t)')
    .option('-d, --verbose', 'print each HTTP request and, on failure, the stack trace');
  registerClientCommands(program);
  if (argv[2] === 'verify-blob' || argv[2] === 'verify-blob-attestation') {
    const { registerVerifyBlobCommand } = await import('./commands/verify-blob.js');
    registerVerifyBlobCommand(program);
  }
  await program.parseAsync(argv);
}
