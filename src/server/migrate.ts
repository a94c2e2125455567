// `sigil db migrate --from-sqlite DIR --to postgres://…`: moves an embedded deployment's databases into
// PostgreSQL (docs/design/scale-out.md): the Rekor v1 and v2 logs and the CT log's tree, the CT entry queue, and
// the registry's metadata, the CI issuer's runners and runs. Keys and registry blobs stay in the data dir, which the
// frontends share. Run it with the embedded deployment stopped. Each log is then opened from PostgreSQL as a
// frontend opens it — its tiles must hash to the stored root — and its root compared with the SQLite one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openFileEntryStore } from '../ct/index.js';
import { type NoteSigner, openMerkleLog } from '../log/index.js';
import { fileOidcStores, type RecordStore } from '../oidc/index.js';
import { registryRoot } from '../registry/index.js';
import {
  checkDatabase,
  importLog,
  importRegistry,
  openPostgresCtQueue,
  postgresLogStorage,
  postgresOidcStores,
} from '../storage/postgres/index.js';
import { exportSqliteLog, exportSqliteRegistry } from '../storage/sqlite/index.js';

/** The logs of a data dir, by the directory their database is in (and their PostgreSQL schema is named after). */
const LOG_DIRS = ['log', 'log-v2', join('ct', 'tree')];

/** A migration never signs: a checkpoint asked of it would mean the tree was not what was copied. */
const refuseToSign: NoteSigner = {
  name: 'sigil db migrate',
  keyId: Buffer.alloc(4),
  sign: () =>
    Promise.reject(new Error('the migrated log needed a new checkpoint: its stored head is missing')),
};

/** Migrates, printing a line per part through `say`; throws with one line when something does not match. */
export async function migrateToPostgres(
  dataDir: string,
  url: string,
  say: (line: string) => void,
): Promise<void> {
  await checkDatabase(url);
  if (!existsSync(dataDir))
    throw new Error(`${dataDir} does not exist: --from-sqlite takes a sigil data dir`);
  for (const name of LOG_DIRS) {
    const dir = join(dataDir, name);
    const rows = exportSqliteLog(dir);
    if (!rows) continue;
    try {
      await importLog(url, dir, rows);
    } finally {
      rows.close();
    }
    const before = rows.head;
    const log = await openMerkleLog({
      storage: postgresLogStorage(url)(dir),
      origin: name,
      signers: [refuseToSign],
    });
    const after = log.head();
    await log.close();
    if (!before || after.size !== before.size || !after.root.equals(before.root))
      throw new Error(
        `${name}: the migrated tree does not match (size ${after.size} vs ${before?.size ?? 0})`,
      );
    say(`${name}: ${after.size} entries, root ${after.root.toString('hex')} (the same before and after)`);
  }
  const queuePath = join(dataDir, 'ct', 'entries.log');
  if (existsSync(queuePath)) {
    const from = openFileEntryStore(queuePath);
    const to = await openPostgresCtQueue(url);
    try {
      if (to.size() > 0)
        throw new Error('the database already holds a CT entry queue: migrate into an empty database');
      for (let start = 0; start < from.size(); start += 1000) {
        const records = await from.read(start, Math.min(from.size(), start + 1000));
        const indices = await Promise.all(records.map((r) => to.append(r)));
        if (indices.some((index, i) => index !== start + i))
          throw new Error('CT entry queue: records landed out of order');
      }
      say(`ct queue: ${to.size()} entries`);
    } finally {
      await from.close();
      await to.close();
    }
  }
  const rows = await importRegistry(
    url,
    exportSqliteRegistry(join(registryRoot(dataDir), 'metadata.sqlite')),
  );
  say(`registry metadata: ${rows} rows`);
  // The CI issuer's runners and runs: from the data dir's files into the database's lists.
  const [files, database] = [fileOidcStores(dataDir), postgresOidcStores(url)(dataDir)];
  for (const name of ['runners', 'runs'] as const) {
    const records = await files[name].load();
    await (database[name] as RecordStore<unknown>).update((existing) => {
      if (existing.length > 0)
        throw new Error(`the database already holds CI ${name}: migrate into an empty database`);
      return records;
    });
    say(`ci ${name}: ${records.length}`);
  }
  say(
    `keys and registry blobs stay in ${dataDir}: start every frontend with --data-dir on it and --database`,
  );
}
