// `sigil up`: the whole system in one process (see src/server/stack.ts), until SIGINT/SIGTERM, which close the
// listener, let requests in flight finish and flush every store before exiting 0. Defaults come from the
// environment `sigil up` itself exports (SIGIL_DATA_DIR), plus SIGIL_PORT and SIGIL_HOST for scripts and tests.
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeEndpoints, prepareDataDir, startStack, useDatabase } from '../../server/index.js';
import { chooseLogFormat, logWriter, probeListen } from '../up-log.js';

/**
 * Fails at once, naming the dir, when --data-dir cannot be one: a file in the way, a parent that is not a
 * directory or not writable, a place like /proc where Node's recursive mkdir never returns. Creates the missing
 * levels one at a time (never recursive mkdir, for that reason).
 */
export async function checkDataDir(dir: string): Promise<void> {
  const bad = (why: string) => new Error(`--data-dir ${dir}: ${why}; pass a --data-dir you can write to`);
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    const st = await stat(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      if (err.code === 'ENOTDIR') throw bad(`a part of the path is not a directory`);
      throw bad(err.code === 'EACCES' ? `no permission to look at ${at}` : err.message);
    });
    if (st) {
      if (!st.isDirectory())
        throw bad(at === dir ? 'it is a file, not a directory' : `${at} is not a directory`);
      break;
    }
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  await access(at, constants.W_OK | constants.X_OK).catch(() => {
    throw bad(`${at} is not writable`);
  });
  for (const d of missing)
    await mkdir(d, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST')
        throw bad(`cannot create ${d} here${err.code === 'EACCES' ? ' (permission denied)' : ''}`);
    });
}

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
    .option('--log-format <format>', 'json or pretty (default: pretty on a terminal, json otherwise)')
    .option('-q, --quiet', 'no request lines (warnings and errors still show)')
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
        logFormat?: string;
        quiet?: boolean;
        anonymousPull?: boolean;
        rekorV2?: boolean;
        database?: string;
      }) => {
        if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) > 65535)
          throw new Error(`--port must be a TCP port number (0-65535), not "${opts.port}"`);
        const format = chooseLogFormat(opts.logFormat, process.stdout.isTTY === true);
        const inUse = (err: NodeJS.ErrnoException) => {
          if (err.code === 'EADDRINUSE')
            return new Error(
              `${opts.host}:${opts.port} is in use (another sigil up?): pass --port PORT, or --port 0 for a free one`,
            );
          if (err.code === 'EACCES')
            return new Error(
              `no permission to listen on ${opts.host}:${opts.port}: pass a --port above 1023`,
            );
          if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
            return new Error(`--host ${opts.host} is not an address of this machine`);
          return err;
        };
        // Nothing is written to the data dir until the port is known to be free and the dir usable.
        await probeListen(opts.host, Number(opts.port)).catch((err) => {
          throw inUse(err);
        });
        // The database too is checked before anything is written.
        await useDatabase(opts.database);
        const dataDir = resolve(opts.dataDir);
        await checkDataDir(dataDir);
        await prepareDataDir(dataDir);
        const { server, endpoints } = await startStack({
          dataDir: opts.dataDir,
          host: opts.host,
          port: Number(opts.port),
          publicUrl: opts.publicUrl,
          logLevel: opts.logLevel,
          logStream: logWriter(format, opts.quiet === true, process.stdout),
          anonymousPull: opts.anonymousPull,
          rekorApiVersion: opts.rekorV2 ? 2 : undefined,
        }).catch((err: NodeJS.ErrnoException) => {
          throw inUse(err);
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
