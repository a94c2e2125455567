// Content-addressed blob files and upload sessions on the local file system:
//   <root>/blobs/<algorithm>/<first two hex>/<hex>   complete blobs, only ever created by an atomic rename
//   <root>/uploads/<uuid>/data, info.json             sessions in progress (chunked or monolithic)
// The digest of an upload is computed from the chunks as they stream in; a session's hash state lives in memory
// and is rebuilt from its data file only if the process restarted mid-upload. Nothing here knows repositories'
// metadata or HTTP; the engine links blobs into repositories once they are published.
import { createHash, type Hash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rm,
  stat,
  truncate,
  unlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { writeFileAtomic } from '../crypto/index.js';
import { RegistryError } from './errors.js';
import { appendHashed, fsyncFile, publish, TooLargeError } from './files.js';
import {
  assertUploadId,
  type DigestAlgorithm,
  isDigestAlgorithm,
  type ParsedDigest,
  parseDigest,
} from './names.js';

export interface UploadState {
  id: string;
  repo: string;
  /** The user who opened the session (undefined when the registry runs without auth); only they may use it. */
  owner?: string;
  algorithm: DigestAlgorithm;
  /** Bytes received so far. */
  size: number;
  startedAt: number;
}

interface LiveUpload extends UploadState {
  hash: Hash;
  /** Set while a request streams into the session; a second concurrent request is refused. */
  busy: boolean;
}

/** Which session, asked for by whom: a session answers only in its repository and to the user who opened it. */
export interface UploadRef {
  repo: string;
  id: string;
  owner?: string;
}

/** An inclusive byte range a chunk claims to cover (distribution-spec "Pushing a blob in chunks"). */
export interface ChunkRange {
  start: number;
  end: number;
}

/**
 * How many more bytes a session may take (the registry's blob size limit, the repository's quota), and the error
 * that refuses a chunk going past it, given the size the session would have reached.
 */
export interface Allowance {
  bytes: number;
  refuse(size: number): RegistryError;
}

export interface OpenBlob {
  fh: FileHandle;
  size: number;
}

export class BlobStore {
  private readonly blobsDir: string;
  private readonly uploadsDir: string;
  private readonly live = new Map<string, LiveUpload>();
  /** Set by the engine: what each chunk may add, asked before a chunk's first byte is read. */
  allowance?: (upload: UploadState) => Allowance;

  constructor(root: string) {
    this.blobsDir = join(root, 'blobs');
    this.uploadsDir = join(root, 'uploads');
  }

  async init(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true });
    await mkdir(this.uploadsDir, { recursive: true });
  }

  blobPath(d: ParsedDigest): string {
    return join(this.blobsDir, d.algorithm, d.hex.slice(0, 2), d.hex);
  }

  /** Size of a stored blob, or undefined when absent. */
  async size(d: ParsedDigest): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(d))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Opens a blob for reading; undefined when absent (e.g. collected between lookup and open). */
  async open(d: ParsedDigest): Promise<OpenBlob | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(this.blobPath(d), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { size } = await fh.stat();
      return { fh, size };
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  async remove(d: ParsedDigest): Promise<void> {
    await unlink(this.blobPath(d)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Every stored blob with its modification time (for garbage collection). */
  async *list(): AsyncGenerator<{ digest: ParsedDigest; mtimeMs: number; size: number }> {
    for (const algorithm of await readdirOrEmpty(this.blobsDir)) {
      if (!isDigestAlgorithm(algorithm)) continue;
      for (const prefix of await readdirOrEmpty(join(this.blobsDir, algorithm))) {
        for (const hex of await readdirOrEmpty(join(this.blobsDir, algorithm, prefix))) {
          let digest: ParsedDigest;
          try {
            digest = parseDigest(`${algorithm}:${hex}`);
          } catch {
            continue; // not a blob (stray temp file); left alone
          }
          const st = await stat(join(this.blobsDir, algorithm, prefix, hex)).catch(() => undefined);
          if (st) yield { digest, mtimeMs: st.mtimeMs, size: st.size };
        }
      }
    }
  }

  // ── uploads ──

  async createUpload(repo: string, algorithm: DigestAlgorithm, owner?: string): Promise<UploadState> {
    const id = randomUUID();
    const dir = join(this.uploadsDir, id);
    await mkdir(dir);
    const startedAt = Date.now();
    await writeFileAtomic(join(dir, 'info.json'), JSON.stringify({ repo, owner, algorithm, startedAt }));
    await (await open(join(dir, 'data'), 'w')).close();
    const upload: LiveUpload = {
      id,
      repo,
      owner,
      algorithm,
      size: 0,
      startedAt,
      hash: createHash(algorithm),
      busy: false,
    };
    this.live.set(id, upload);
    return publicState(upload);
  }

  async uploadState(ref: UploadRef): Promise<UploadState> {
    return publicState(await this.load(ref));
  }

  /** Bytes received by the repository's other sessions this process knows of (they count against its quota). */
  pendingBytes(repo: string, except: string): number {
    let total = 0;
    for (const u of this.live.values()) if (u.repo === repo && u.id !== except) total += u.size;
    return total;
  }

  /**
   * Appends a chunk. When `range` is given its start must equal the bytes received so far (else 416) and the
   * body must be exactly range.end - range.start + 1 bytes. A failed or short chunk leaves the session as it was.
   */
  async append(ref: UploadRef, body: Readable, range?: ChunkRange, length?: number): Promise<UploadState> {
    const upload = await this.load(ref);
    return this.withBusy(upload, () => this.appendLocked(upload, body, range, length));
  }

  /**
   * Completes a session: appends an optional final chunk, checks the whole blob against `digest`, fsyncs and
   * publishes it under its digest. On any mismatch the session is discarded and nothing becomes visible.
   */
  async complete(
    ref: UploadRef,
    digest: ParsedDigest,
    body?: Readable,
    range?: ChunkRange,
    length?: number,
  ): Promise<{ size: number }> {
    const upload = await this.load(ref);
    return this.withBusy(upload, async () => {
      if (body) await this.appendLocked(upload, body, range, length);
      // The session hashed with the algorithm its POST named (`digest-algorithm`, default sha256), but the spec
      // only says clients SHOULD name it, and docker-style clients give a sha512 digest only at the closing PUT:
      // then the data is read back once with that algorithm.
      const actual =
        digest.algorithm === upload.algorithm
          ? upload.hash.copy().digest('hex')
          : await hashFile(join(this.uploadsDir, upload.id, 'data'), digest.algorithm);
      if (actual !== digest.hex) {
        await this.discard(upload.id);
        throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
          expected: digest.digest,
          actual: `${digest.algorithm}:${actual}`,
          size: upload.size,
        });
      }
      const data = join(this.uploadsDir, upload.id, 'data');
      await fsyncFile(data);
      await publish(data, this.blobPath(digest));
      const size = upload.size;
      await this.discard(upload.id);
      return { size };
    });
  }

  async cancel(ref: UploadRef): Promise<void> {
    const upload = await this.load(ref);
    if (upload.busy) throw new RegistryError('BLOB_UPLOAD_INVALID', 'upload is busy with another request');
    await this.discard(upload.id);
  }

  /** Upload sessions older than `cutoffMs` (epoch ms), for garbage collection. */
  async *staleUploads(cutoffMs: number): AsyncGenerator<string> {
    for (const id of await readdirOrEmpty(this.uploadsDir)) {
      if (this.live.get(id)?.busy) continue;
      const st = await stat(join(this.uploadsDir, id, 'data')).catch(() =>
        stat(join(this.uploadsDir, id)).catch(() => undefined),
      );
      if (st && st.mtimeMs < cutoffMs) yield id;
    }
  }

  async discard(id: string): Promise<void> {
    this.live.delete(id);
    await rm(join(this.uploadsDir, id), { recursive: true, force: true });
  }

  private async appendLocked(
    upload: LiveUpload,
    body: Readable,
    range: ChunkRange | undefined,
    length: number | undefined,
  ): Promise<UploadState> {
    if (range && range.start !== upload.size) {
      throw new RegistryError(
        'BLOB_UPLOAD_INVALID',
        `chunk starts at ${range.start} but the upload has ${upload.size} bytes; chunks must be in order`,
        { expectedStart: upload.size, range: `${range.start}-${range.end}` },
        416,
      );
    }
    const expected = range ? range.end - range.start + 1 : length;
    if (range && length !== undefined && length !== expected) {
      throw new RegistryError('SIZE_INVALID', 'Content-Length does not match Content-Range', {
        contentLength: length,
        range: `${range.start}-${range.end}`,
      });
    }
    // A declared size past the limit is refused before a byte is read (the client gets its answer at once); an
    // undeclared one (chunked transfer) is cut off by appendHashed at the first byte past it.
    const allowance = this.allowance?.(publicState(upload));
    if (allowance && expected !== undefined && expected > allowance.bytes) {
      throw allowance.refuse(upload.size + expected);
    }
    const before = upload.size;
    const saved = upload.hash.copy();
    const data = join(this.uploadsDir, upload.id, 'data');
    let written: number;
    try {
      written = await appendHashed(
        data,
        body,
        upload.hash,
        expected ?? allowance?.bytes ?? Number.POSITIVE_INFINITY,
      );
      if (expected !== undefined && written !== expected) {
        throw new RegistryError('SIZE_INVALID', `chunk has ${written} bytes, expected ${expected}`, {
          received: written,
          expected,
        });
      }
    } catch (err) {
      // Roll back to the state before this request: the session stays resumable and no byte of a failed chunk
      // can end up in a blob.
      await truncate(data, before).catch(() => {});
      upload.hash = saved;
      if (err instanceof TooLargeError) {
        // Without a declared size the only cap was the allowance; with one, the declared size (≤ the allowance).
        if (expected === undefined && allowance) throw allowance.refuse(before + err.limit + 1);
        throw new RegistryError('SIZE_INVALID', `chunk is larger than the ${err.limit} bytes declared`, {
          expected: err.limit,
        });
      }
      if (err instanceof RegistryError) throw err;
      throw new RegistryError('BLOB_UPLOAD_INVALID', `upload interrupted: ${(err as Error).message}`, {
        received: upload.size - before,
      });
    }
    upload.size = before + written;
    return publicState(upload);
  }

  private async withBusy<T>(upload: LiveUpload, fn: () => Promise<T>): Promise<T> {
    if (upload.busy) throw new RegistryError('BLOB_UPLOAD_INVALID', 'upload is busy with another request');
    upload.busy = true;
    try {
      return await fn();
    } finally {
      upload.busy = false;
    }
  }

  /** The live session, or one rebuilt from disk after a restart (the only time a partial upload is re-read). */
  private async load({ repo, id, owner }: UploadRef): Promise<LiveUpload> {
    assertUploadId(id);
    let upload = this.live.get(id);
    if (
      upload &&
      !upload.busy &&
      (await stat(join(this.uploadsDir, id, 'data')).catch(() => undefined)) === undefined
    ) {
      // Collected by `sigil registry gc` (another process) while this one still remembered it.
      this.live.delete(id);
      upload = undefined;
    }
    if (!upload) {
      const dir = join(this.uploadsDir, id);
      let info: { repo: string; owner?: string; algorithm: string; startedAt: number };
      try {
        info = JSON.parse(await readFile(join(dir, 'info.json'), 'utf8'));
      } catch {
        throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { id });
      }
      if (!isDigestAlgorithm(info.algorithm)) {
        throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { id });
      }
      const hash = createHash(info.algorithm);
      let size = 0;
      try {
        for await (const chunk of createReadStream(join(dir, 'data'))) {
          hash.update(chunk as Buffer);
          size += (chunk as Buffer).length;
        }
      } catch {
        throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { id });
      }
      // Another request may have loaded it while this one was reading.
      upload = this.live.get(id) ?? {
        id,
        repo: info.repo,
        owner: info.owner,
        algorithm: info.algorithm,
        size,
        startedAt: info.startedAt,
        hash,
        busy: false,
      };
      this.live.set(id, upload);
    }
    // A session belongs to the repository it was started in and to the user who started it: anyone else, even
    // with push access to the repository, gets the answer an unknown id gets, so a leaked or guessed Location
    // can neither read the session's progress nor add to, finish or cancel it.
    if (upload.repo !== repo || upload.owner !== owner)
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { id });
    return upload;
  }
}

function publicState(u: LiveUpload): UploadState {
  return {
    id: u.id,
    repo: u.repo,
    owner: u.owner,
    algorithm: u.algorithm,
    size: u.size,
    startedAt: u.startedAt,
  };
}

async function hashFile(path: string, algorithm: DigestAlgorithm): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
