// `sigil up`: the whole system in one process (see src/server/stack.ts), until SIGINT/SIGTERM, which close the
// listener, let requests in flight finish and flush every store before exiting 0. Defaults come from the
// environment `sigil up` itself exports (SIGIL_DATA_DIR), plus SIGIL_PORT and SIGIL_HOST for scripts and tests.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { describeEndpoints, prepareDataDir, startStack, useDatabase } from '../../server/index.js';

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('start CA, CT log, transparency log, registry and CI identity issuer on one port')
    .option(
      '--data-dir <dir>',
      'keys and data, kept across restarts (env SIGIL_DATA_DIR)',
      process.env.SIGIL_DATA_DIR ?? '.sigil',
    )
    .option('--host <host>', 'address to listen on', process.env.SIGIL_HOST ?? '127.0.0.1')
    .option(
      '--port <port>',
      'port to listen on, 0 picks a free one (env SIGIL_PORT)',
      process.env.SIGIL_PORT ?? '3000',
    )
    .option('--public-url <url>', 'base URL clients use, when behind a proxy')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--anonymous-pull', 'let anyone pull from the registry without credentials (default: users only)')
    .option(
      '--database <url>',
      'keep the logs in PostgreSQL (postgres://user@host:5432/db) instead of SQLite in the data dir (env SIGIL_DATABASE_URL)',
    )
    .option(
      '--rekor-v2',
      "signing_config.json sends signers to the Rekor v2 log and the TSA (default: ca-config.json's rekorApiVersion, else v1)",
    )
    .action(
      async (opts: {
        dataDir: string;
        host: string;
        port: string;
        publicUrl?: string;
        logLevel: string;
        anonymousPull?: boolean;
        rekorV2?: boolean;
        database?: string;
      }) => {
        if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) > 65535)
          throw new Error(`--port must be a TCP port number (0-65535), not "${opts.port}"`);
        await prepareDataDir(resolve(opts.dataDir));
        await useDatabase(opts.database);
        const { server, endpoints } = await startStack({
          dataDir: opts.dataDir,
          host: opts.host,
          port: Number(opts.port),
          publicUrl: opts.publicUrl,
          logLevel: opts.logLevel,
          anonymousPull: opts.anonymousPull,
          rekorApiVersion: opts.rekorV2 ? 2 : undefined,
        }).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EADDRINUSE') throw err;
          throw new Error(
            `${opts.host}:${opts.port} is in use (another sigil up?): pass --port PORT, or --port 0 for a free one`,
          );
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
