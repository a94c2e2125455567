// `sigil registry …`: offline maintenance of a registry data dir — adding users and collecting garbage. The
// running server need not be stopped: users.json is re-read per token request, and gc only touches blobs and
// uploads idle for longer than the grace period.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type Action, addUser, DEFAULT_GC_GRACE_MS, registryRoot } from '../../registry/index.js';
import { openRegistry } from '../../server/index.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Parses durations like 90s, 30m, 2h, 0 (plain numbers are seconds). */
export function parseDuration(value: string): number {
  const m = value.trim().match(/^(\d+)(ms|s|m|h|d)?$/);
  if (!m) throw new Error(`invalid duration "${value}" (e.g. 30m, 2h, 0)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's'] as number;
  return Number(m[1]) * unit;
}

export function registerRegistryCommands(program: Command): void {
  const registry = program.command('registry').description('maintain the OCI registry data dir');

  registry
    .command('add-user')
    .description('add or replace a registry user (scrypt-hashed password in <data-dir>/registry/users.json)')
    .argument('<name>', 'user name')
    .option('--data-dir <dir>', 'the data dir the registry serves', '.sigil')
    .option('--password-stdin', 'read the password from standard input')
    .option('--password <password>', 'the password (visible in process lists; prefer --password-stdin)')
    .option('--repository <pattern>', 'repositories the user may access: a name, prefix/*, or *', '*')
    .option('--actions <list>', 'comma-separated actions: pull,push,delete', 'pull,push,delete')
    .action(async (name: string, opts: Record<string, string | boolean | undefined>) => {
      let password = typeof opts.password === 'string' ? opts.password : process.env.SIGIL_REGISTRY_PASSWORD;
      if (opts.passwordStdin) password = await readStdin();
      if (!password)
        throw new Error('give a password with --password-stdin (or --password / SIGIL_REGISTRY_PASSWORD)');
      const actions = String(opts.actions)
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean) as Action[];
      const root = registryRoot(resolve(String(opts.dataDir)));
      await mkdir(root, { recursive: true });
      await addUser(root, name, password, [{ repository: String(opts.repository), actions }]);
      process.stdout.write(`user ${name} saved in ${root}/users.json\n`);
    });

  registry
    .command('gc')
    .description('delete blobs no manifest references and abandoned uploads')
    .option('--data-dir <dir>', 'the data dir the registry serves', '.sigil')
    .option(
      '--grace <duration>',
      'leave anything touched more recently than this',
      `${DEFAULT_GC_GRACE_MS / 60_000}m`,
    )
    .option('--dry-run', 'only report what would be deleted')
    .option('--json', 'print the report as JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const reg = await openRegistry(resolve(String(opts.dataDir)));
      try {
        const report = await reg.collectGarbage({
          graceMs: parseDuration(String(opts.grace)),
          dryRun: opts.dryRun === true,
        });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        } else {
          const verb = opts.dryRun ? 'would delete' : 'deleted';
          process.stdout.write(
            `${verb} ${report.blobsDeleted.length} blob(s) (${report.bytesFreed} bytes) and ` +
              `${report.uploadsDeleted.length} abandoned upload(s)\n`,
          );
        }
      } finally {
        await reg.close();
      }
    });
}
