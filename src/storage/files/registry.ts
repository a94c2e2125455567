// The registry's blobs and upload sessions as files (the registry engine's BlobStorage):
//   <root>/blobs/<algorithm>/<first two hex>/<hex>   complete blobs, only ever created by an atomic rename
//   <root>/uploads/<uuid>/data, info.json             sessions in progress: bytes so far, who started it
// Digests and upload ids arrive validated by the engine (lowercase hex, UUIDs), so they are safe as path parts.
import { createReadStream } from 'node:fs';
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  truncate,
  unlink,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syncDir, writeFileAtomic } from '../../crypto/index.js';
import type { BlobReader, BlobStorage, ParsedDigest, UploadInfo } from '../../registry/index.js';

/** Chunks are gathered into writes of about this size: fewer syscalls, and hashing overlaps the previous write. */
const WRITE_BATCH_BYTES = 1024 * 1024;
/** During long uploads, an fdatasync is started in the background after every this many bytes. */
const EARLY_SYNC_BYTES = 64 * 1024 * 1024;

export class FileBlobStorage implements BlobStorage {
  private constructor(
    private readonly blobsDir: string,
    private readonly uploadsDir: string,
  ) {}

  /** Opens (creating if needed) the blob store under `root`. */
  static async open(root: string): Promise<FileBlobStorage> {
    const store = new FileBlobStorage(join(root, 'blobs'), join(root, 'uploads'));
    await mkdir(store.blobsDir, { recursive: true });
    await mkdir(store.uploadsDir, { recursive: true });
    return store;
  }

  private blobPath(d: ParsedDigest): string {
    return join(this.blobsDir, d.algorithm, d.hex.slice(0, 2), d.hex);
  }

  private data(id: string): string {
    return join(this.uploadsDir, id, 'data');
  }

  async blobSize(d: ParsedDigest): Promise<number | undefined> {
    return (await statOrUndefined(this.blobPath(d)))?.size;
  }

  async openBlob(d: ParsedDigest): Promise<BlobReader | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(this.blobPath(d), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { size } = await fh.stat();
      return { size, read: (...args) => fh.read(...args), close: () => fh.close() };
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  async deleteBlob(d: ParsedDigest): Promise<void> {
    await unlink(this.blobPath(d)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async *listBlobs(): AsyncGenerator<{ digest: string; size: number; modifiedAt: number }> {
    for (const algorithm of await readdirOrEmpty(this.blobsDir)) {
      for (const prefix of await readdirOrEmpty(join(this.blobsDir, algorithm))) {
        for (const hex of await readdirOrEmpty(join(this.blobsDir, algorithm, prefix))) {
          const st = await stat(join(this.blobsDir, algorithm, prefix, hex)).catch(() => undefined);
          if (st) yield { digest: `${algorithm}:${hex}`, size: st.size, modifiedAt: st.mtimeMs };
        }
      }
    }
  }

  async createUpload(id: string, info: UploadInfo): Promise<void> {
    const dir = join(this.uploadsDir, id);
    await mkdir(dir);
    await writeFileAtomic(join(dir, 'info.json'), JSON.stringify(info));
    await (await open(this.data(id), 'w')).close();
  }

  async uploadInfo(id: string): Promise<UploadInfo | undefined> {
    try {
      return JSON.parse(await readFile(join(this.uploadsDir, id, 'info.json'), 'utf8')) as UploadInfo;
    } catch {
      return undefined;
    }
  }

  async uploadSize(id: string): Promise<number | undefined> {
    return (await statOrUndefined(this.data(id)))?.size;
  }

  /** At most one write is in flight while the next batch is gathered (and hashed, by the engine, as it passes). */
  async appendUpload(id: string, chunks: AsyncIterable<Buffer>): Promise<number> {
    const fh = await open(this.data(id), 'a');
    let written = 0;
    let pending: Promise<unknown> = Promise.resolve();
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let unsynced = 0;
    let syncing: Promise<void> | undefined;
    try {
      for await (const chunk of chunks) {
        written += chunk.length;
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

  async truncateUpload(id: string, size: number): Promise<void> {
    await truncate(this.data(id), size);
  }

  readUpload(id: string): AsyncIterable<Buffer> {
    return createReadStream(this.data(id));
  }

  /** fsync, then rename into place and fsync the directory: a reader sees the whole blob or none of it. */
  async publishUpload(id: string, digest: ParsedDigest): Promise<void> {
    const fh = await open(this.data(id), 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    const path = this.blobPath(digest);
    await mkdir(dirname(path), { recursive: true });
    await rename(this.data(id), path);
    await syncDir(dirname(path));
    await this.deleteUpload(id);
  }

  async deleteUpload(id: string): Promise<void> {
    await rm(join(this.uploadsDir, id), { recursive: true, force: true });
  }

  async *listUploads(): AsyncGenerator<{ id: string; modifiedAt: number }> {
    for (const id of await readdirOrEmpty(this.uploadsDir)) {
      const st = await stat(this.data(id)).catch(() =>
        stat(join(this.uploadsDir, id)).catch(() => undefined),
      );
      if (st) yield { id, modifiedAt: st.mtimeMs };
    }
  }
}

/** writev may write less than asked (disk full): that must fail the upload, not truncate it silently. */
async function writeAll(fh: FileHandle, buffers: Buffer[], total: number): Promise<void> {
  const { bytesWritten } = await fh.writev(buffers);
  if (bytesWritten !== total) {
    const rest = Buffer.concat(buffers).subarray(bytesWritten);
    await fh.write(rest, 0, rest.length);
  }
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    // Absent, or a stray file where a directory was expected: nothing listed, nothing touched.
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
}
