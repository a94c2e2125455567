// `sigil tuf …`: the TUF repository in a data dir, beside or without a running server (writers take the
// repository's lock): rotate the root key, export a static copy for a mirror, show versions and expiries.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from './registry.js';

/** `sigil up` exports SIGIL_DATA_DIR; a shell that sourced DIR/env needs no flag. */
const dataDirDefault = () => process.env.SIGIL_DATA_DIR ?? '.sigil';

async function open(dataDir: string) {
  const { openTufRepository } = await import('../../tuf/index.js');
  return openTufRepository(resolve(dataDir), { create: false });
}

export function registerTufCommands(program: Command): void {
  const tuf = program.command('tuf').description('the TUF repository that publishes the trust root (/tuf/)');

  tuf
    .command('rotate-root')
    .description('replace the root key: a new root version signed by the old and the new key')
    .option('--data-dir <dir>', 'the data dir (env SIGIL_DATA_DIR)', dataDirDefault())
    .option('--root-key <file>', 'the current root key, when kept outside the data dir; replaced in place')
    .action(async (o: { dataDir: string; rootKey?: string }) => {
      const repo = await open(o.dataDir);
      const r = await repo.rotateRoot({ rootKeyPath: o.rootKey && resolve(o.rootKey) });
      process.stdout.write(
        `root version ${r.version} published, signed by the retired key ${r.retired} and the new key ${r.keyid}\n`,
      );
    });

  tuf
    .command('export')
    .description('copy the repository to DIR, for a static mirror (any web server, or a file:// mirror)')
    .argument('<dir>', 'where to write the copy (an existing copy is updated in place)')
    .option('--data-dir <dir>', 'the data dir (env SIGIL_DATA_DIR)', dataDirDefault())
    .option(
      '--valid-for <duration>',
      'sign timestamp and snapshot valid this long (e.g. 30d) for a mirror refreshed by hand',
    )
    .action(async (dir: string, o: { dataDir: string; validFor?: string }) => {
      const { readTargets } = await import('../../tuf/index.js');
      const { trustTargets } = await import('../../server/index.js');
      const dataDir = resolve(o.dataDir);
      const repo = await open(dataDir);
      const validForMs = o.validFor === undefined ? undefined : parseDuration(o.validFor);
      const refreshed = await repo.refresh(await readTargets(trustTargets(dataDir)), { validForMs });
      for (const w of refreshed.warnings) process.stderr.write(`WARNING: ${w}\n`);
      const files = await repo.exportTo(resolve(dir));
      const s = await repo.status();
      process.stdout.write(
        `exported ${files.length} files to ${resolve(dir)}: root version ${s.root?.version}, ` +
          `timestamp valid until ${s.timestamp?.expires}\n` +
          `clients: initialize --mirror <URL serving that directory> --root ${resolve(dir, 'root.json')}\n`,
      );
    });

  tuf
    .command('status')
    .description('versions, expiries and keys of each role')
    .option('--data-dir <dir>', 'the data dir (env SIGIL_DATA_DIR)', dataDirDefault())
    .action(async (o: { dataDir: string }) => {
      const s = await (await open(o.dataDir)).status();
      for (const role of ['root', 'targets', 'snapshot', 'timestamp'] as const) {
        const r = s[role];
        process.stdout.write(
          r
            ? `${role.padEnd(9)} version ${r.version}, expires ${r.expires}, key ${r.keyids.join(' ')}\n`
            : `${role.padEnd(9)} (not published yet)\n`,
        );
      }
      process.stdout.write(`targets   ${s.targetNames.join(', ') || '(none)'}\n`);
    });
}
