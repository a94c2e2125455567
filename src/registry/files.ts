// Durable file primitives for the blob store's streaming side: a streaming append that hashes the same chunks it
// writes (so a blob's digest is known when its last byte lands, without reading the file back), and publishing a
// finished upload under its digest. Small whole-file writes use crypto/'s writeFileAtomic.
import type { Hash } from 'node:crypto';
import { type FileHandle, mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { syncDir } from '../crypto/index.js';

/** Chunks are gathered into writes of about this size: fewer syscalls, and hashing overlaps the previous write. */
const WRITE_BATCH_BYTES = 1024 * 1024;
/** During long uploads, an fdatasync is started in the background after every this many bytes. */
const EARLY_SYNC_BYTES = 64 * 1024 * 1024;

export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Moves a complete, fsynced file to its final name so that readers see all of it or nothing. */
export async function publish(tempPath: string, finalPath: string): Promise<void> {
  const dir = dirname(finalPath);
  await mkdir(dir, { recursive: true });
  await rename(tempPath, finalPath);
  await syncDir(dir);
}

/** Thrown by appendHashed when more bytes arrive than the caller allowed. */
export class TooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

/**
 * A request body's chunks, without destroying the stream when the loop stops early (a limit reached, a write
 * failed): destroying an unfinished request destroys its socket, and with it the answer that says why.
 */
export function bodyChunks(source: Readable | AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const stream = source as Readable;
  return typeof stream.iterator === 'function' ? stream.iterator({ destroyOnReturn: false }) : source;
}

/** writev may write less than asked (disk full): that must fail the upload, not truncate it silently. */
async function writeAll(fh: FileHandle, buffers: Buffer[], total: number): Promise<void> {
  const { bytesWritten } = await fh.writev(buffers);
  if (bytesWritten !== total) {
    const rest = Buffer.concat(buffers).subarray(bytesWritten);
    await fh.write(rest, 0, rest.length);
  }
}

/**
 * Appends everything `source` yields to the file at `path`, feeding each chunk to `hash` as it goes. Returns
 * the number of bytes appended. On error the caller rolls back (truncate + restore a copy of the hash).
 * At most one write is in flight while the next batch is hashed and gathered.
 */
export async function appendHashed(
  path: string,
  source: Readable | AsyncIterable<Buffer>,
  hash: Hash,
  limit = Number.POSITIVE_INFINITY,
): Promise<number> {
  const fh = await open(path, 'a');
  let written = 0;
  let pending: Promise<unknown> = Promise.resolve();
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let unsynced = 0;
  let syncing: Promise<void> | undefined;
  try {
    for await (const chunk of bodyChunks(source)) {
      written += chunk.length;
      if (written > limit) throw new TooLargeError(limit);
      hash.update(chunk);
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH_BYTES) {
        await pending;
        pending = writeAll(fh, batch, batchBytes);
        batch = [];
        batchBytes = 0;
        unsynced += WRITE_BATCH_BYTES;
        if (unsynced >= EARLY_SYNC_BYTES && syncing === undefined) {
          // Start writing back what has landed so far while more arrives, so the fsync before publishing
          // finds little left to do (large uploads would otherwise pay for all their writeback at the end).
          unsynced = 0;
          syncing = pending
            .then(() => fh.datasync())
            .finally(() => {
              syncing = undefined;
            });
        }
      }
    }
    await pending;
    if (batch.length > 0) await writeAll(fh, batch, batchBytes);
  } finally {
    // A failed write must not leave an unhandled rejection behind.
    await pending.catch(() => {});
    await (syncing as Promise<void> | undefined)?.catch(() => {});
    await fh.close();
  }
  return written;
}
