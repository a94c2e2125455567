// What the registry engine needs from storage, in its own terms; the backends live in src/storage/<backend>/ and
// src/server/ decides which one the engine gets (tessera's storage drivers are the model). Two interfaces, because
// the two kinds of state scale differently: metadata is small rows changed in transactions (SQLite today,
// PostgreSQL next), blobs are large immutable byte streams (a file system today, shared or object storage later).
// Everything is async, so that a backend across a network can implement it; nothing assumes SQL or paths. Names,
// digests and upload ids reach a backend only after the engine validated them (names.ts).
import type { DigestAlgorithm, ParsedDigest } from './names.js';

export interface RegistryStorage {
  metadata: RegistryMetadata;
  blobs: BlobStorage;
}

/** A manifest a repository holds (its bytes are fetched by digest: they are shared between repositories). */
export interface ManifestRecord {
  digest: string;
  mediaType: string;
}

/** A manifest whose `subject` is the digest asked about (distribution-spec "Listing Referrers"). */
export interface Referrer {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface NewManifest {
  repo: string;
  digest: string;
  mediaType: string;
  content: Buffer;
  subject?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** Blobs it references (config, layers), which the repository must hold. */
  blobs: string[];
  /** Manifests it references (index entries), which the repository must hold. */
  manifests: string[];
  tags: string[];
}

/** Repositories, the blobs each may serve, manifests, tags and referrers. */
export interface RegistryMetadata {
  repositoryExists(repo: string): Promise<boolean>;
  /** Repository names after `after` in byte order, at most `limit`. */
  repositories(after: string, limit: number): Promise<string[]>;
  /** Size of a blob the repository holds, or undefined. */
  blobSize(repo: string, digest: string): Promise<number | undefined>;
  /** Bytes of the blobs a repository holds (what its quota counts). */
  repositoryBytes(repo: string): Promise<number>;
  /** Lets the repository (created if new) serve a stored blob; recorded with the time, which gc reads. */
  linkBlob(repo: string, digest: string, size: number): Promise<void>;
  unlinkBlob(repo: string, digest: string): Promise<boolean>;
  manifest(repo: string, ref: { digest: string } | { tag: string }): Promise<ManifestRecord | undefined>;
  manifestContent(digest: string): Promise<Buffer | undefined>;
  /**
   * Stores a manifest, its tags, its subject and its references in one transaction, if the repository holds every
   * blob and manifest it references; else stores nothing and returns those it lacks.
   */
  putManifest(m: NewManifest): Promise<{ digest: string; kind: 'blob' | 'manifest' }[]>;
  deleteTag(repo: string, tag: string): Promise<boolean>;
  /** Deletes a manifest, every tag pointing at it, and its bytes when no repository holds it any more. */
  deleteManifest(repo: string, digest: string): Promise<boolean>;
  /** Tags after `after` in byte ("ASCIIbetical") order, at most `limit`. */
  tags(repo: string, after: string, limit: number): Promise<string[]>;
  /** In push order. */
  referrers(repo: string, subject: string): Promise<Referrer[]>;
  /** Every blob digest some manifest references (the garbage collector's mark set). */
  referencedBlobs(): Promise<Set<string>>;
  /** When the blob was last linked into any repository (epoch ms), if it is linked at all. */
  lastLinked(digest: string): Promise<number | undefined>;
  /** Removes a blob from every repository, unless a manifest references it (checked in the same transaction). */
  unlinkIfUnreferenced(digest: string): Promise<boolean>;
  /** Deletes manifest bytes no repository holds; returns how many. */
  dropOrphanContent(): Promise<number>;
  close(): Promise<void>;
}

/** A stored blob opened for reading at any offset; closed by the reader. */
export interface BlobReader {
  size: number;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** What an upload session records when it starts. */
export interface UploadInfo {
  repo: string;
  /** The user who opened the session (undefined when the registry runs without auth); only they may use it. */
  owner?: string;
  algorithm: DigestAlgorithm;
  startedAt: number;
}

/**
 * Blobs by digest, created only by publishing a finished upload, and upload sessions: the record of who started
 * each and the bytes received so far. A session lives beside the bytes it becomes, so that publishing one is a
 * move within one store, and a crash leaves either a session or a blob, never half of each.
 */
export interface BlobStorage {
  blobSize(digest: ParsedDigest): Promise<number | undefined>;
  /** Undefined when absent (e.g. collected between lookup and open). */
  openBlob(digest: ParsedDigest): Promise<BlobReader | undefined>;
  deleteBlob(digest: ParsedDigest): Promise<void>;
  /** Every stored blob, its digest as storage names it (the engine validates it), with its size and age. */
  listBlobs(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }>;

  createUpload(id: string, info: UploadInfo): Promise<void>;
  /** Undefined when there is no such session (never started, finished, cancelled or collected). */
  uploadInfo(id: string): Promise<UploadInfo | undefined>;
  /** Bytes the session holds; undefined when it is gone. */
  uploadSize(id: string): Promise<number | undefined>;
  /** Appends what `chunks` yields (checked and hashed by the engine as they pass); returns how many bytes. */
  appendUpload(id: string, chunks: AsyncIterable<Buffer>): Promise<number>;
  /** Cuts the session back to `size` bytes (a failed chunk rolled back). */
  truncateUpload(id: string, size: number): Promise<void>;
  /** The session's bytes from the start. */
  readUpload(id: string): AsyncIterable<Buffer>;
  /** Makes the session's bytes the blob `digest`, durably and all at once, and ends the session. */
  publishUpload(id: string, digest: ParsedDigest): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  /** Every session with when its bytes last changed (epoch ms). */
  listUploads(): AsyncIterable<{ id: string; modifiedAt: number }>;
}
