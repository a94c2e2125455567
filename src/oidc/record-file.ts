// Where the CI issuer keeps its runners and runs (`{"<key>": [ … ]}` lists that the issuer and the `sigil oidc`
// commands share): a RecordStore. The embedded one is a JSON file in the data dir, re-read when its modification
// time changes (so a runner added or a run started by the CLI is seen by a running server without a restart),
// written atomically, 0600 (it holds secrets' hashes); a corrupt file is an error, never an empty list. With
// `--database` the lists are in PostgreSQL (storage/postgres/oidc.ts), shared by every frontend.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../crypto/index.js';

export interface RecordStore<T> {
  /** A copy of the records. */
  load(): Promise<T[]>;
  /**
   * Replaces the records with what `change` makes of the current ones, as one step: two changes (of this
   * process, or, on a shared store, of any) never overwrite each other.
   */
  update(change: (records: T[]) => T[]): Promise<void>;
}

export const RUNNERS_FILE = join('oidc', 'runners.json');
export const RUNS_FILE = join('oidc', 'runs.json');

/** The JSON file at `path` holding the list under `key`. */
export function recordFile<T>(path: string, key: string): RecordStore<T> {
  return new RecordFile<T>(path, key);
}

class RecordFile<T> implements RecordStore<T> {
  private records: T[] = [];
  private loadedMtime = -1;
  /** This process's changes, one after the other (another process's `sigil oidc` command can still race). */
  private changing: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly key: string,
  ) {}

  /** A copy of the records, re-read if the file changed since the last read ([] when there is no file). */
  async load(): Promise<T[]> {
    let mtime: number;
    try {
      mtime = (await stat(this.path)).mtimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.records = [];
      return [];
    }
    if (mtime !== this.loadedMtime) {
      const json = JSON.parse(await readFile(this.path, 'utf8')) as Record<string, unknown>;
      const list = json[this.key];
      this.records = Array.isArray(list) ? (list as T[]) : [];
      this.loadedMtime = mtime;
    }
    return [...this.records];
  }

  update(change: (records: T[]) => T[]): Promise<void> {
    const run = this.changing.catch(() => {}).then(async () => this.save(change(await this.load())));
    this.changing = run;
    return run;
  }

  private async save(records: T[]): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path, `${JSON.stringify({ [this.key]: records }, null, 2)}\n`, {
      mode: 0o600,
    });
    this.records = records;
    this.loadedMtime = -1;
  }
}
