// Pushing blobs (distribution-spec "Pushing blobs", "Pushing a blob in chunks", "Mounting a blob from another
// repository"), within the blob size limit and the repository quota. Chunks come in order, each hashed as it streams
// into storage, so a blob's digest is known when its last byte lands without reading it back. A session's hash state
// lives in memory and is rebuilt from its bytes only if the process restarted mid-upload. A chunk that fails midway
// is rolled back (storage truncated, hash restored from a copy taken before it), so the session stays resumable and
// no byte of a failed chunk can reach a blob.
import { createHash, type Hash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { RegistryError } from './errors.js';
import { assertUploadId, type DigestAlgorithm, isDigestAlgorithm, type ParsedDigest } from './names.js';
import type { BlobStorage, RegistryMetadata, RegistryStorage, UploadInfo } from './storage.js';

/**
 * 10 GiB: well above the largest layers in common use (multi-GB ML and CUDA layers), and low enough that one
 * client cannot fill a disk with a single upload.
 */
export const DEFAULT_MAX_BLOB_BYTES = 10 * 1024 ** 3;

/** What one upload and one repository may take; the HTTP answer to going past either is 413 DENIED. */
export interface RegistryLimits {
  /** Largest blob accepted (default DEFAULT_MAX_BLOB_BYTES). */
  maxBlobBytes: number;
  /** Bytes of blobs one repository may hold, uploads in progress included (default: no quota). */
  repositoryQuotaBytes?: number;
}

export interface UploadState extends UploadInfo {
  id: string;
  /** Bytes received so far. */
  size: number;
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
interface Allowance {
  bytes: number;
  refuse(size: number): RegistryError;
}

/** Thrown while a chunk streams in when more bytes arrive than it may have. */
class TooLargeError extends Error {
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

/** The body's chunks, each fed to `hash` on its way to storage; past `limit` bytes in all, a TooLargeError. */
async function* hashed(body: Readable, hash: Hash, limit: number): AsyncGenerator<Buffer> {
  let received = 0;
  for await (const chunk of bodyChunks(body)) {
    received += chunk.length;
    if (received > limit) throw new TooLargeError(limit);
    hash.update(chunk);
    yield chunk;
  }
}

const unknown = (id: string) =>
  new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { id });

export class Uploads {
  private readonly live = new Map<string, LiveUpload>();
  private readonly blobs: BlobStorage;
  private readonly meta: RegistryMetadata;
  private readonly limits: RegistryLimits;

  constructor(storage: RegistryStorage, limits: Partial<RegistryLimits>) {
    this.blobs = storage.blobs;
    this.meta = storage.metadata;
    this.limits = {
      maxBlobBytes: limits.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES,
      repositoryQuotaBytes: limits.repositoryQuotaBytes,
    };
  }

  /** Starts a session (the caller checked the repository name). */
  async create(repo: string, algorithm: DigestAlgorithm, owner?: string): Promise<UploadState> {
    const id = randomUUID();
    const info = { repo, owner, algorithm, startedAt: Date.now() };
    await this.blobs.createUpload(id, info);
    const upload: LiveUpload = { id, ...info, size: 0, hash: createHash(algorithm), busy: false };
    this.live.set(id, upload);
    return publicState(upload);
  }

  async state(ref: UploadRef): Promise<UploadState> {
    return publicState(await this.load(ref));
  }

  /** Bytes received by the repository's other sessions this process knows of (they count against its quota). */
  private pendingBytes(repo: string, except: string): number {
    let total = 0;
    for (const u of this.live.values()) if (u.repo === repo && u.id !== except) total += u.size;
    return total;
  }

  /**
   * What the session's next chunk may add: the smaller of what the blob size limit and the repository's quota
   * leave. The quota counts the blobs the repository holds plus what its other sessions have received; chunks
   * streaming into two sessions at the same moment can each pass that check, so the quota may be overrun by at
   * most what they carry together.
   */
  private async allowance(upload: UploadState): Promise<Allowance> {
    const { maxBlobBytes, repositoryQuotaBytes: quota } = this.limits;
    const blobLeft = maxBlobBytes - upload.size;
    const used =
      quota === undefined
        ? 0
        : (await this.meta.repositoryBytes(upload.repo)) + this.pendingBytes(upload.repo, upload.id);
    const quotaLeft = quota === undefined ? Number.POSITIVE_INFINITY : quota - used - upload.size;
    if (blobLeft <= quotaLeft) {
      return {
        bytes: blobLeft,
        refuse: (size) =>
          new RegistryError(
            'DENIED',
            `blob is larger than this registry's ${maxBlobBytes}-byte limit (maxBlobBytes)`,
            { limit: maxBlobBytes, size },
            413,
          ),
      };
    }
    return { bytes: quotaLeft, refuse: (size) => quotaExceeded(upload.repo, quota as number, used, size) };
  }

  /**
   * Cross-repository mount: links a blob `from` holds into `repo` (the caller checked both names); undefined when
   * `from` does not hold it (the caller then starts an ordinary upload session).
   */
  async mount(repo: string, from: string, digest: ParsedDigest): Promise<{ size: number } | undefined> {
    const size = await this.meta.blobSize(from, digest.digest);
    if (size === undefined) return undefined;
    if ((await this.blobs.blobSize(digest)) === undefined) return undefined;
    const quota = this.limits.repositoryQuotaBytes;
    if (quota !== undefined && (await this.meta.blobSize(repo, digest.digest)) === undefined) {
      const used = (await this.meta.repositoryBytes(repo)) + this.pendingBytes(repo, '');
      if (used + size > quota) throw quotaExceeded(repo, quota, used, size);
    }
    await this.meta.linkBlob(repo, digest.digest, size);
    return { size };
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
   * Completes a session: appends an optional final chunk, checks the whole blob against `digest`, publishes it
   * under its digest and links it into the repository. On any mismatch the session is discarded and nothing
   * becomes visible.
   */
  async complete(
    ref: UploadRef,
    digest: ParsedDigest,
    body?: Readable,
    range?: ChunkRange,
    length?: number,
  ): Promise<{ digest: string; size: number }> {
    const upload = await this.load(ref);
    return this.withBusy(upload, async () => {
      if (body) await this.appendLocked(upload, body, range, length);
      // The session hashed with the algorithm its POST named (`digest-algorithm`, default sha256), but the spec
      // only says clients SHOULD name it, and docker-style clients give a sha512 digest only at the closing PUT:
      // then the bytes are read back once with that algorithm.
      let actual: string;
      if (digest.algorithm === upload.algorithm) {
        actual = upload.hash.copy().digest('hex');
      } else {
        const hash = createHash(digest.algorithm);
        for await (const chunk of this.blobs.readUpload(upload.id)) hash.update(chunk);
        actual = hash.digest('hex');
      }
      if (actual !== digest.hex) {
        await this.discard(upload.id);
        throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
          expected: digest.digest,
          actual: `${digest.algorithm}:${actual}`,
          size: upload.size,
        });
      }
      await this.blobs.publishUpload(upload.id, digest);
      this.live.delete(upload.id);
      await this.meta.linkBlob(upload.repo, digest.digest, upload.size);
      return { digest: digest.digest, size: upload.size };
    });
  }

  async cancel(ref: UploadRef): Promise<void> {
    const upload = await this.load(ref);
    if (upload.busy) throw new RegistryError('BLOB_UPLOAD_INVALID', 'upload is busy with another request');
    await this.discard(upload.id);
  }

  /** Sessions untouched since `cutoffMs` (epoch ms) and not streaming now, for garbage collection. */
  async *stale(cutoffMs: number): AsyncGenerator<string> {
    for await (const { id, modifiedAt } of this.blobs.listUploads()) {
      if (!this.live.get(id)?.busy && modifiedAt < cutoffMs) yield id;
    }
  }

  async discard(id: string): Promise<void> {
    this.live.delete(id);
    await this.blobs.deleteUpload(id);
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
    // undeclared one (chunked transfer) is cut off at the first byte past it.
    const allowance = await this.allowance(publicState(upload));
    if (expected !== undefined && expected > allowance.bytes) throw allowance.refuse(upload.size + expected);
    const before = upload.size;
    const saved = upload.hash.copy();
    let written: number;
    try {
      written = await this.blobs.appendUpload(
        upload.id,
        hashed(body, upload.hash, expected ?? allowance.bytes),
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
      await this.blobs.truncateUpload(upload.id, before).catch(() => {});
      upload.hash = saved;
      if (err instanceof TooLargeError) {
        // Without a declared size the only cap was the allowance; with one, the declared size (≤ the allowance).
        if (expected === undefined) throw allowance.refuse(before + err.limit + 1);
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

  /**
   * The live session, or one rebuilt from storage: after a restart, or when another frontend added to it (the only
   * times a partial upload is re-read).
   */
  private async load({ repo, id, owner }: UploadRef): Promise<LiveUpload> {
    assertUploadId(id);
    let upload = this.live.get(id);
    if (upload && !upload.busy && (await this.blobs.uploadSize(id)) !== upload.size) {
      // Collected by `sigil registry gc` (another process) while this one still remembered it, or continued by
      // another frontend sharing the storage (docs/design/scale-out.md): what is stored is what counts.
      this.live.delete(id);
      upload = undefined;
    }
    if (!upload) {
      const info = await this.blobs.uploadInfo(id);
      if (!info || !isDigestAlgorithm(info.algorithm)) throw unknown(id);
      const hash = createHash(info.algorithm);
      let size = 0;
      try {
        for await (const chunk of this.blobs.readUpload(id)) {
          hash.update(chunk);
          size += chunk.length;
        }
      } catch {
        throw unknown(id);
      }
      // Another request may have loaded it while this one was reading.
      upload = this.live.get(id) ?? { id, ...info, size, hash, busy: false };
      this.live.set(id, upload);
    }
    // A session belongs to the repository it was started in and to the user who started it: anyone else, even
    // with push access to the repository, gets the answer an unknown id gets, so a leaked or guessed Location
    // can neither read the session's progress nor add to, finish or cancel it.
    if (upload.repo !== repo || upload.owner !== owner) throw unknown(id);
    return upload;
  }
}

/**
 * 413 DENIED naming the quota. distribution-spec has no code for a storage limit (SIZE_INVALID means a length
 * that does not match the content); DENIED is "access to the resource is denied", which a full quota is.
 */
function quotaExceeded(repo: string, quota: number, used: number, size: number): RegistryError {
  return new RegistryError(
    'DENIED',
    `repository ${repo} would exceed its ${quota}-byte quota (repositoryQuotaBytes): ${used} bytes are in use`,
    { quota, used, size },
    413,
  );
}

function publicState({ hash, busy, ...state }: LiveUpload): UploadState {
  return state;
}
