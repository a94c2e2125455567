// The CT log's durable entry queue: an append-only file of length-prefixed, CRC-checked records with group
// commit (many appends share one synchronous write, up to MAX_GROUPS_IN_FLIGHT groups on their way at once,
// released in order), so an SCT is handed out only once its precertificate entry, and every entry before it,
// would survive kill -9. On open a torn tail left by a crash is cut off. The Merkle tree over these entries is
// built by the log engine reading them back (see docs/design/ca-ct-log.md).
import {
  closeSync,
  constants,
  fdatasyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  write,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * What a CT log needs from storage: durable ordered appends and reads by index. This file is the embedded one;
 * with `--database` the queue is in PostgreSQL (storage/postgres/ct-queue.ts), shared by every frontend.
 */
export interface CtEntryStore {
  /** Resolves with the entry's index once it is durable. */
  append(record: Buffer): Promise<number>;
  /** Records this process knows of (on a shared store, as of its last look). */
  size(): number;
  /** Records start ≤ index < end, all of which exist. */
  read(start: number, end: number): Promise<Buffer[]>;
  /** On a store other processes append to as well: calls `grown` when they have (the tree merger catches up). */
  watch?(grown: () => void): void;
  close(): Promise<void>;
}

const HEADER = 8; // u32 length + u32 crc32
/**
 * Group writes in flight at once. A group's write returns once it is durable (O_DSYNC), so while one waits for
 * the disk the next group can already be on its way instead of queueing behind it; groups are released in
 * file order whatever order the disk finishes them in.
 */
export const MAX_GROUPS_IN_FLIGHT = 2;

interface Pending {
  record: Buffer;
  resolve: (i: number) => void;
  reject: (e: Error) => void;
}

interface Group {
  items: Pending[];
  /** File offset the group is written at. */
  start: number;
  done: boolean;
  error?: Error;
}

export interface FileEntryStoreOptions {
  /** The positioned write (fs.write) of record groups; tests pass one that fails to exercise the recovery. */
  write?: typeof write;
  /** How many of the latest records stay in memory (default RECENT_RECORDS). */
  recent?: number;
  /** Bytes of zeros written ahead of the records at a time (default PREALLOCATE_BYTES; 0: none). */
  preallocate?: number;
}

/**
 * Zeros written (and made durable) ahead of the last record, 4 MiB at a time (~1,500 certificates' entries),
 * topped up in the background when less than half is left. A group's O_DSYNC write that stays inside the file
 * only has its data to put on disk; one that makes the file longer also has the inode's new size to write
 * (ext4: a second I/O). Measured on this machine, a 7.8 KB group: 0.12 ms and ~46 µs of CPU into preallocated
 * zeros against 0.19-0.20 ms and 71-83 µs appending. Zeros after the last record are what a crash leaves
 * anyway (a zero length ends the valid part on open), and a clean close cuts them off.
 */
export const PREALLOCATE_BYTES = 4 * 1024 * 1024;

/**
 * Records kept in memory: the newest ones, which the tree merger reads (it runs a fraction of a second behind)
 * and get-entries mostly asks for. Older ones are read back from the file by offset. Keeping every record (as
 * this store first did) grew the heap by ~2.6 MB and ~2,000 objects a second at the CA's top rate: gigabytes
 * and ever longer major GCs on the thread that answers certificate requests within the hour.
 */
export const RECENT_RECORDS = 8192;

/** File offsets of the records, by index, in a growable Float64Array (8 bytes an entry, one heap object). */
class Offsets {
  private data = new Float64Array(1024);
  length = 0;

  push(offset: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = offset;
  }

  at(index: number): number {
    return this.data[index];
  }
}

/** Opens (creating if needed) the file store at `path`. */
export function openFileEntryStore(path: string, options: FileEntryStoreOptions = {}): CtEntryStore {
  const writeAt = options.write ?? write;
  const keep = Math.max(1, options.recent ?? RECENT_RECORDS);
  mkdirSync(dirname(path), { recursive: true });
  /** starts.at(i): where record i's header begins; record i's body ends where record i + 1's begins. */
  const starts = new Offsets();
  /** The newest records (indices recentBase, recentBase + 1, …), trimmed by half once twice `keep` long. */
  let recent: Buffer[] = [];
  let recentBase = 0;
  let count = 0;
  const remember = (record: Buffer, at: number) => {
    starts.push(at);
    count++;
    recent.push(record);
    if (recent.length >= 2 * keep) {
      recent = recent.slice(keep);
      recentBase += keep;
    }
  };
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
    // Records are never empty: zero length is a hole a later group's write left when an earlier one never
    // reached the disk (the crash came first), and it ends the valid part like a torn record.
    if (len === 0 || end > existing.length) break;
    const body = existing.subarray(validLength + HEADER, end);
    if (crc32(body) !== crc) break;
    // Copied only while among the newest (they outlive `existing`, the whole file).
    remember(body, validLength);
    validLength = end;
  }
  recent = recent.map((r) => Buffer.from(r));
  // O_DSYNC: each write returns only once its data (and the file size) are on disk, one system call per group
  // instead of a write and an fdatasync (POSIX synchronized I/O data integrity completion, the same guarantee).
  // Writes go to explicit offsets, so groups in flight together land in order whichever finishes first.
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_DSYNC, 0o644);
  // Cut a torn tail (a crash mid-write) so the next append starts on a record boundary.
  if (validLength !== existing.length) {
    ftruncateSync(fd, validLength);
    fdatasyncSync(fd);
  }

  let end = validLength;
  // Preallocation: [end, allocated) is zeros on disk; a background write of [filling.from, filling.to) may be
  // under way, and no group is started that would overlap it (the zeros must not land on a record).
  const chunk = Math.max(0, options.preallocate ?? PREALLOCATE_BYTES);
  const zeros = chunk > 0 ? Buffer.alloc(chunk) : undefined;
  let allocated = validLength;
  let filling: { from: number; to: number; done: Promise<void> } | undefined;
  if (zeros) {
    try {
      allocated = validLength + writeSync(fd, zeros, 0, zeros.length, validLength);
    } catch {
      // No room for zeros (a full disk): records extend the file as they come, or fail then with a clear error.
    }
  }
  /** After a cut-back (a failed write) a fill that was under way no longer extends the zeroed part. */
  let fillEpoch = 0;
  function topUp(): void {
    if (!zeros || filling || closed || end + zeros.length / 2 <= allocated) return;
    const from = Math.max(allocated, end);
    const epoch = fillEpoch;
    const fill = { from, to: from + zeros.length, done: Promise.resolve() };
    fill.done = new Promise<void>((resolve) => {
      write(fd, zeros, 0, zeros.length, from, (err, written) => {
        filling = undefined;
        // A failed fill only means the next groups extend the file (the slower write); the next kick retries.
        if (!err && written === zeros.length && epoch === fillEpoch) allocated = fill.to;
        resolve();
        kick();
      });
    });
    filling = fill;
  }

  let pending: Pending[] = [];
  const inFlight: Group[] = [];
  /** Set after a failed write until the groups after it have finished and the file is cut back. */
  let recovering = false;
  let closed = false;
  let idle: (() => void) | undefined;
  let kickScheduled = false;

  function encodeGroup(items: Pending[]): Buffer {
    const buf = Buffer.allocUnsafe(groupBytes(items));
    let at = 0;
    for (const p of items) {
      buf.writeUInt32BE(p.record.length, at);
      buf.writeUInt32BE(crc32(p.record), at + 4);
      p.record.copy(buf, at + HEADER);
      at += HEADER + p.record.length;
    }
    return buf;
  }

  // Group commit: whatever queued while the groups in flight were being written goes out in the next one.
  function kick(): void {
    while (!recovering && pending.length > 0 && inFlight.length < MAX_GROUPS_IN_FLIGHT) {
      // Waits for a background fill it would overlap (only when records outrun the preallocation).
      if (filling && end + groupBytes(pending) > filling.from) break;
      const group: Group = { items: pending, start: end, done: false };
      pending = [];
      const buf = encodeGroup(group.items);
      end += buf.length;
      inFlight.push(group);
      writeAt(fd, buf, 0, buf.length, group.start, (err, written) => {
        group.done = true;
        if (err) group.error = err;
        else if (written !== buf.length) group.error = new Error('short write to CT entry store');
        settle();
      });
    }
    topUp();
    if (inFlight.length === 0 && pending.length === 0 && !kickScheduled) idle?.();
  }

  function groupBytes(items: Pending[]): number {
    let total = 0;
    for (const p of items) total += HEADER + p.record.length;
    return total;
  }

  /** Releases finished groups in file order; after a failure, cuts the file back once nothing is in flight. */
  function settle(): void {
    while (!recovering && inFlight.length > 0 && inFlight[0].done && !inFlight[0].error) {
      const group = inFlight.shift() as Group;
      let at = group.start;
      for (const p of group.items) {
        remember(p.record, at);
        at += HEADER + p.record.length;
        p.resolve(count - 1);
      }
    }
    if (inFlight.length > 0 && inFlight[0].error) recovering = true;
    if (recovering) {
      if (inFlight.some((g) => !g.done)) return;
      // The failed group and every later one are refused (none was released: release is in order) and the
      // file is cut back to where the failed group began, so no later record sits behind a hole or a torn one.
      const cut = inFlight[0].start;
      const error = inFlight[0].error as Error;
      for (const g of inFlight.splice(0)) for (const p of g.items) p.reject(g.error ?? error);
      try {
        ftruncateSync(fd, cut);
        fdatasyncSync(fd);
        end = cut;
        allocated = cut;
        fillEpoch++;
        recovering = false;
      } catch (err) {
        // The file cannot even be cut back: refuse everything from now on rather than risk a hole.
        closed = true;
        for (const p of pending.splice(0)) p.reject(err as Error);
        idle?.();
        return;
      }
    }
    kick();
  }

  function get(index: number): Buffer {
    if (!Number.isInteger(index) || index < 0 || index >= count)
      throw new RangeError(`no CT entry at index ${index}`);
    if (index >= recentBase) return recent[index - recentBase];
    // An older record: read back from the file (the page cache, usually). The newest record is always in
    // memory, so the next record's start bounds this one.
    const from = starts.at(index) + HEADER;
    const to = starts.at(index + 1);
    const body = Buffer.allocUnsafe(to - from);
    const read = readSync(fd, body, 0, body.length, from);
    if (read !== body.length) throw new Error(`CT entry ${index} could not be read back`);
    return body;
  }

  return {
    append(record) {
      if (closed) return Promise.reject(new Error('CT entry store is closed'));
      if (record.length === 0) return Promise.reject(new Error('a CT entry record cannot be empty'));
      const done = new Promise<number>((resolve, reject) => pending.push({ record, resolve, reject }));
      // The group starts after this turn of the event loop, so that records arriving together (an issue
      // worker's answers come back several to a message) share one write instead of the first going alone.
      if (!kickScheduled) {
        kickScheduled = true;
        setImmediate(() => {
          kickScheduled = false;
          kick();
        });
      }
      return done;
    },
    size: () => count,
    async read(start, end) {
      const out: Buffer[] = [];
      for (let i = start; i < end; i++) out.push(get(i));
      return out;
    },
    async close() {
      closed = true;
      if (inFlight.length > 0 || pending.length > 0)
        await new Promise<void>((resolve) => {
          idle = resolve;
        });
      // The fd must stay open until a background fill's write has returned (its number could be reused).
      await filling?.done;
      // A clean close leaves the file holding exactly its records (the preallocated zeros cut off).
      if (!recovering) {
        try {
          ftruncateSync(fd, end);
          fdatasyncSync(fd);
        } catch {
          // Zeros left behind are what a crash leaves too: the next open cuts them.
        }
      }
      closeSync(fd);
    },
  };
}
