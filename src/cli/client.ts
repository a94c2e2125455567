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
import { registerSignCommands } from './commands/sign.js';
import { registerTreeCommands } from './commands/tree.js';
import { registerTriangulateCommands } from './commands/triangulate.js';
import { registerVerifyCommands } from './commands/verify.js';

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
  'tree',
  'triangulate',
  'download',
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
  registerTreeCommands(program);
  registerTriangulateCommands(program);
  registerDownloadCommands(program);
  registerAboutCommands(program);
}

/** `sigil <client verb> …` without the server side of the program. */
export async function clientMain(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('sigil').version(sigilVersion());
  registerClientCommands(program);
  if (argv[2] === 'verify-blob' || argv[2] === 'verify-blob-attestation') {
    const { registerVerifyBlobCommand } = await import('./commands/verify-blob.js');
    registerVerifyBlobCommand(program);
  }
  await program.parseAsync(argv);
}
