// Which stores the CI issuer keeps its runners and runs in: server/ chooses (the data dir's files by default,
// PostgreSQL with --database: storage/postgres/oidc.ts) and passes the choice to the issuer and `sigil oidc`.
import { join } from 'node:path';
import { type RecordStore, RUNNERS_FILE, RUNS_FILE, recordFile } from './record-file.js';
import type { RunnerRecord } from './runners.js';
import type { RunRecord } from './runs.js';

/** The issuer's two lists. */
export interface OidcRecordStores {
  runners: RecordStore<RunnerRecord>;
  runs: RecordStore<RunRecord>;
}

/** Chooses the issuer's stores for a data dir. */
export type OpenOidcStores = (dataDir: string) => OidcRecordStores;

export const fileOidcStores: OpenOidcStores = (dataDir) => ({
  runners: recordFile<RunnerRecord>(join(dataDir, RUNNERS_FILE), 'runners'),
  runs: recordFile<RunRecord>(join(dataDir, RUNS_FILE), 'runs'),
});
