// The CT log's durable entry queue: an append-only file of length-prefixed, CRC-checked records with group
// commit (many appends share one write + fdatasync), so an SCT is handed out only once its precertificate entry
// would survive kill -9. On open a torn tail left by a crash is cut off. The Merkle tree over these entries is
// built by the log engine reading them back (see docs/design/ca-ct-log.md).
import { closeSync, fdatasync, ftruncateSync, mkdirSync, openSync, readFileSync, write } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

/** What a CT log needs from storage: durable ordered appends and reads by index. */
export interface CtEntryStore {
  /** Resolves with the entry's index once it is durable. */
  append(record: Buffer): Promise<number>;
  size(): number;
  get(index: number): Buffer;
  close(): Promise<void>;
}

const HEADER = 8; // u32 length + u32 crc32

/** Opens (creating if needed) the file store at `path`. */
export function openFileEntryStore(path: string): CtEntryStore {
  mkdirSync(dirname(path), { recursive: true });
  const records: Buffer[] = [];
  let validLength = 0;
  let existing: Buffer;
  try {
    existing = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    existing = Buffer.alloc(0);
  }
  while (validLength + HEADER <= existing.length) {
    const len = existing.readUInt32BE(validLength);
    const crc = existing.readUInt32BE(validLength + 4);
    const end = validLength + HEADER + len;
    if (end > existing.length) break;
    const body = existing.subarray(validLength + HEADER, end);
    if (crc32(body) !== crc) break;
    records.push(Buffer.from(body));
    validLength = end;
  }
  const fd = openSync(path, 'a+');
  // Cut a torn tail (a crash mid-write) so the next append starts on a record boundary.
  if (validLength !== existing.length) ftruncateSync(fd, validLength);

  let pending: { record: Buffer; resolve: (i: number) => void; reject: (e: Error) => void }[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;

  const writeAll = (buf: Buffer) =>
    new Promise<void>((resolve, reject) => {
      write(fd, buf, 0, buf.length, null, (err, written) => {
        if (err) reject(err);
        else if (written !== buf.length) reject(new Error('short write to CT entry store'));
        else resolve();
      });
    });
  const sync = () =>
    new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));

  // Group commit: whatever queued while the previous batch was syncing goes out in one write + fdatasync.
  async function flushLoop(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      const parts: Buffer[] = [];
      for (const p of batch) {
        const header = Buffer.alloc(HEADER);
        header.writeUInt32BE(p.record.length, 0);
        header.writeUInt32BE(crc32(p.record), 4);
        parts.push(header, p.record);
      }
      try {
        await writeAll(Buffer.concat(parts));
        await sync();
      } catch (err) {
        for (const p of batch) p.reject(err as Error);
        continue;
      }
      for (const p of batch) {
        records.push(p.record);
        p.resolve(records.length - 1);
      }
    }
  }

  function kick(): void {
    if (flushing || pending.length === 0) return;
    flushing = flushLoop().finally(() => {
      flushing = undefined;
      kick();
    });
  }

  return {
    append(record) {
      if (closed) return Promise.reject(new Error('CT entry store is closed'));
      const done = new Promise<number>((resolve, reject) => pending.push({ record, resolve, reject }));
      kick();
      return done;
    },
    size: () => records.length,
    get(index) {
      const r = records[index];
      if (!r) throw new RangeError(`no CT entry at index ${index}`);
      return r;
    },
    async close() {
      closed = true;
      while (flushing) await flushing;
      closeSync(fd);
    },
  };
}
