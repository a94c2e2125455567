// `sigil db migrate --from-sqlite DIR --to postgres://…`: moves an embedded deployment into PostgreSQL
// (server/migrate.ts does the work; docs/design/scale-out.md says what moves and what stays in the data dir).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { migrateToPostgres } from '../../server/index.js';

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('move a deployment between database backends');
  db.command('migrate')
    .description('copy an embedded (SQLite) data dir into an empty PostgreSQL database; roots checked after')
    .requiredOption('--from-sqlite <dir>', 'the data dir of the stopped embedded deployment (e.g. .sigil)')
    .requiredOption('--to <url>', 'an empty PostgreSQL database: postgres://user@host:5432/sigil')
    .action(async (opts: { fromSqlite: string; to: string }) => {
      await migrateToPostgres(resolve(opts.fromSqlite), opts.to, (line) => process.stdout.write(`${line}\n`));
    });
}
