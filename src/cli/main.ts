// The `sigil` command line: each file in commands/ adds its verbs to the program. This layer only parses
// flags, calls library functions and prints; behaviour lives in the components.
import { Command } from 'commander';
import { registerOidcCommands } from '../oidc/index.js';
import { oidcStores } from '../server/index.js';
import { registerClientCommands } from './client.js';
import { sigilVersion } from './commands/about.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerDbCommands } from './commands/db.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerImageCommands } from './commands/image.js';
import { registerRegistryCommands } from './commands/registry.js';
import { registerServeCommands } from './commands/serve.js';
import { registerTufCommands } from './commands/tuf.js';
import { registerUpCommand } from './commands/up.js';
import { registerVerifyBlobCommand } from './commands/verify-blob.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('sigil')
    .description('Self-hostable keyless signing: CA, transparency log, registry and a cosign-compatible CLI')
    .version(sigilVersion());
  registerUpCommand(program);
  registerServeCommands(program);
  registerRegistryCommands(program);
  registerDbCommands(program);
  // The issuer's runners and runs where the server keeps them (SIGIL_DATABASE_URL, as `sigil up`'s env file sets it).
  registerOidcCommands(program, (dataDir) => oidcStores()(dataDir));
  registerTufCommands(program);
  registerImageCommands(program);
  registerVerifyBlobCommand(program);
  registerClientCommands(program);
  registerDemoCommand(program);
  registerCompletionCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
