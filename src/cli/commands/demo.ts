// `sigil demo`: runs the keyless walkthrough of examples/django-keyless end to end against a fresh `sigil up`
// (see src/demo/), printing each command and its output. `npm run demo` runs this.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start sigil on a fresh data dir and walk through build, sign, verify and the log')
    .option('--data-dir <dir>', 'data dir for sigil up (default: a fresh temp dir, removed afterwards)')
    .option('--port <port>', 'port for sigil up (default: a free one)', '0')
    .option('--repository <owner/name>', 'GitHub repository the signing workflow belongs to')
    .option('--keep-running', 'leave sigil up running afterwards, to try more commands against it')
    .action(async (o: { dataDir?: string; port: string; repository?: string; keepRunning?: boolean }) => {
      const { runDemo } = await import('../../demo/index.js');
      // dist/cli/commands/demo.js → the package root holds bin/ and examples/.
      const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
      const result = await runDemo({
        cli: { node: process.execPath, script: join(root, 'bin', 'sigil.js') },
        root,
        dataDir: o.dataDir,
        port: Number(o.port),
        repository: o.repository,
        keepRunning: o.keepRunning,
        out: process.stdout,
      });
      if (result.stack) {
        const stack = result.stack;
        const stop = () => void stack.stop().then((code) => process.exit(code ?? 1));
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        return;
      }
      if (!result.ok) process.exitCode = 1;
    });
}
