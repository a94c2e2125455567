// How many bytes an entry costs in PostgreSQL (docs/design/scale-out.md's capacity plan): appends N realistic
// Rekor v1 hashedrekord leaves (a 71-byte signature and a PEM key, two search terms, as bench/log/run.ts prefills)
// through the engine into a throwaway cluster, then reads each table's size with its indexes, and its indexes' alone
// (the lookup table's primary key is the one B-tree every append grows at random places).
//   node --import tsx bench/pg/bytes-per-entry.ts [entries=100000]
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { generateKey, localSigner } from '../../src/crypto/index.js';
import { openMerkleLog, rekorNoteSigner } from '../../src/log/index.js';
import { postgresLogStorage } from '../../src/storage/postgres/index.js';
import { startPostgres } from '../../test/pg/cluster.js';
import { prefillEntry } from '../lib/prefill.js';

const count = Number(process.argv[2] ?? 100_000);
const cluster = await startPostgres();
try {
  const dir = join(mkdtempSync(join(tmpdir(), 'sigil-bpe-')), 'log');
  const signer = localSigner(generateKey('ecdsa-p256'));
  const log = await openMerkleLog({
    storage: postgresLogStorage(cluster.url)(dir),
    origin: 'bench - 1',
    signers: [rekorNoteSigner(signer, 'bench')],
    batchMaxSize: 4096,
  });
  const pem = Buffer.from(
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
  ).toString('base64');
  const started = performance.now();
  for (let i = 0; i < count; i += 10_000) {
    const appends = [];
    for (let j = i; j < Math.min(count, i + 10_000); j++) {
      appends.push(log.append(prefillEntry(j, pem, 'entry')));
    }
    await Promise.all(appends);
  }
  const seconds = (performance.now() - started) / 1000;
  await log.close();
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  await c.query('VACUUM ANALYZE');
  const r = await c.query(
    `SELECT c.relname AS table, pg_total_relation_size(c.oid) AS bytes, pg_indexes_size(c.oid) AS index_bytes
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'sigil_log' AND c.relkind = 'r' ORDER BY 2 DESC`,
  );
  await c.end();
  const total = r.rows.reduce((s, row) => s + Number(row.bytes), 0);
  const perEntry = (column: 'bytes' | 'index_bytes') =>
    Object.fromEntries(r.rows.map((row) => [row.table, Math.round(Number(row[column]) / count)]));
  process.stdout.write(
    `${JSON.stringify({ entries: count, appendsPerSecondThroughEngine: Math.round(count / seconds), bytesPerEntry: Math.round(total / count), bytesPerEntryByTable: perEntry('bytes'), indexBytesPerEntryByTable: perEntry('index_bytes') })}\n`,
  );
} finally {
  cluster.destroy();
}
