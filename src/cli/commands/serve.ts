// `sigil serve <service>`: runs one service alone on its own port (for deployments that split services).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  lateUrl,
  prepareDataDir,
  serviceFactories,
  serviceNames,
  startServer,
  useDatabase,
} from '../../server/index.js';

export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('run one service alone')
    .argument('<service>', 'which service to run')
    .option('--data-dir <dir>', 'where the service keeps its keys and data', '.sigil')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '3000')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--anonymous-push', 'registry: allow pushes without credentials (local tests only)')
    .option('--anonymous-pull', 'registry: let anyone pull without credentials (default: users only)')
    .option('--public-url <url>', 'base URL clients use, when behind a proxy')
    .option('--database <url>', 'logs: keep them in PostgreSQL instead of SQLite (env SIGIL_DATABASE_URL)')
    .action(async (name: string, opts: Record<string, string | boolean | undefined>) => {
      const factory = serviceFactories[name];
      if (!factory) throw new Error(`unknown service "${name}"; known: ${serviceNames().join(', ')}`);
      const dataDir = resolve(String(opts.dataDir));
      await prepareDataDir(dataDir);
      await useDatabase(typeof opts.database === 'string' ? opts.database : undefined);
      const url = lateUrl();
      const service = await factory({ dataDir, publicUrl: url.get }, opts);
      const server = await startServer([service], {
        host: String(opts.host),
        port: Number(opts.port),
        logLevel: String(opts.logLevel),
        onUrl: (u) => url.set(typeof opts.publicUrl === 'string' ? opts.publicUrl : u),
      });
      process.stderr.write(`sigil ${name} listening on ${server.url}\n`);
      // A stray rejection in one request's background work must not take down a service that others rely on;
      // record it loudly instead (acknowledged data is already durable, so nothing is lost either way).
      process.on('unhandledRejection', (err) => server.app.log.error({ err }, 'unhandled rejection'));
      const stop = () => {
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
