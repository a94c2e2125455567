// A JSON file of records that the issuer and the `sigil oidc` commands share (`{"<key>": [ … ]}`): re-read when
// its modification time changes, so a runner added or a run started by the CLI is seen by a running server
// without a restart; written atomically, 0600 (it holds secrets' hashes). A corrupt file is an error, never an
// empty list.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../crypto/index.js';

export class RecordFile<T> {
  private records: T[] = [];
  private loadedMtime = -1;

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

  async save(records: T[]): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path, `${JSON.stringify({ [this.key]: records }, null, 2)}\n`, {
      mode: 0o600,
    });
    this.records = records;
    this.loadedMtime = -1;
  }
}
