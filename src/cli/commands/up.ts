// `sigil up`: the whole system in one process (see src/server/stack.ts), until SIGINT/SIGTERM.
import type { Command } from 'commander';
import { describeEndpoints, startStack } from '../../server/index.js';

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('start CA, CT log, transparency log, registry and CI identity issuer on one port')
    .option(
      '--data-dir <dir>',
      'keys and data (kept across restarts)',
      process.env.SIGIL_DATA_DIR ?? '.sigil',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '3000')
    .option('--public-url <url>', 'base URL clients use, when behind a proxy')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(
      async (opts: { dataDir: string; host: string; port: string; publicUrl?: string; logLevel: string }) => {
        const { server, endpoints } = await startStack({
          dataDir: opts.dataDir,
          host: opts.host,
          port: Number(opts.port),
          publicUrl: opts.publicUrl,
          logLevel: opts.logLevel,
        });
        process.stdout.write(describeEndpoints(endpoints));
        const stop = (signal: string) => {
          server.app.log.info({ signal }, 'shutting down');
          server.close().then(
            () => process.exit(0),
            (err: unknown) => {
              server.app.log.error({ err }, 'shutdown failed');
              process.exit(1);
            },
          );
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      },
    );
}
