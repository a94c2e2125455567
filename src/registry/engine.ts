// The registry engine: repositories of blobs, manifests, tags and referrers over the storage it is given (storage.ts:
// metadata and blobs), with the rules of distribution-spec (spec.md "Pull", "Push", "Content Discovery",
// "Content Management", "Listing Referrers"). No HTTP here: routes/ maps the wire API onto these methods, and the
// CLI's `sigil registry gc` calls collectGarbage directly.
import { createHash } from 'node:crypto';
import { RegistryError } from './errors.js';
import { type Descriptor, MAX_MANIFEST_BYTES, parseManifest } from './manifests.js';
import {
  assertName,
  assertTag,
  type DigestAlgorithm,
  type ParsedDigest,
  parseDigest,
  type Reference,
} from './names.js';
import type { BlobReader, BlobStorage, Referrer, RegistryMetadata, RegistryStorage } from './storage.js';
import { type RegistryLimits, Uploads } from './uploads.js';

/** Manifest bytes kept in memory for fast GETs; content-addressed, so entries never go stale. */
const MANIFEST_CACHE_BYTES = 64 * 1024 * 1024;

/** Abandoned uploads and unreferenced blobs younger than this are left alone by gc (pushes in flight). */
export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;

export interface StoredManifest {
  digest: string;
  mediaType: string;
  content: Buffer;
}

export interface PutManifestResult {
  digest: string;
  subject?: string;
  tags: string[];
}

export interface GcOptions {
  /** Only collect blobs and uploads untouched for this long (default one hour). */
  graceMs?: number;
  dryRun?: boolean;
}

export interface GcReport {
  blobsDeleted: string[];
  bytesFreed: number;
  uploadsDeleted: string[];
  manifestContentDeleted: number;
}

export interface Page<T> {
  items: T[];
  /** Set when more items follow; pass it as `last` to continue. */
  next?: string;
}

export class Registry {
  private readonly cache = new Map<string, Buffer>();
  private cacheBytes = 0;
  private readonly meta: RegistryMetadata;
  private readonly blobs: BlobStorage;
  /** Pushing blobs: upload sessions and mounts, within the limits. */
  readonly uploads: Uploads;

  constructor(storage: RegistryStorage, limits: Partial<RegistryLimits> = {}) {
    this.meta = storage.metadata;
    this.blobs = storage.blobs;
    this.uploads = new Uploads(storage, limits);
  }

  async close(): Promise<void> {
    await this.meta.close();
  }

  // ── pull ──

  private async requireRepo(repo: string): Promise<void> {
    assertName(repo);
    if (!(await this.meta.repositoryExists(repo))) {
      throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { name: repo });
    }
  }

  /** Resolves a tag or digest to a stored manifest (spec "Pulling manifests"). */
  async getManifest(repo: string, ref: Reference): Promise<StoredManifest> {
    await this.requireRepo(repo);
    const row = await this.meta.manifest(
      repo,
      ref.kind === 'digest' ? { digest: ref.digest.digest } : { tag: ref.tag },
    );
    if (!row) {
      throw new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown to registry', {
        reference: ref.kind === 'digest' ? ref.digest.digest : ref.tag,
      });
    }
    let content = this.cache.get(row.digest);
    if (!content) {
      content = await this.meta.manifestContent(row.digest);
      if (!content) throw new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown to registry');
      this.remember(row.digest, content);
    }
    return { digest: row.digest, mediaType: row.mediaType, content };
  }

  private remember(digest: string, content: Buffer): void {
    if (content.length > MANIFEST_CACHE_BYTES / 16) return;
    this.cache.set(digest, content);
    this.cacheBytes += content.length;
    // Map iteration order is insertion order: drop the oldest until back under budget.
    for (const [key, value] of this.cache) {
      if (this.cacheBytes <= MANIFEST_CACHE_BYTES) break;
      this.cache.delete(key);
      this.cacheBytes -= value.length;
    }
  }

  /** Opens a blob the repository holds (spec "Pulling blobs", "Checking if content exists"); the caller closes it. */
  async openBlob(repo: string, digest: ParsedDigest): Promise<BlobReader> {
    await this.requireRepo(repo);
    const linked = (await this.meta.blobSize(repo, digest.digest)) !== undefined;
    const blob = linked ? await this.blobs.openBlob(digest) : undefined;
    if (!blob) throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest: digest.digest });
    return blob;
  }

  // ── push: manifests ──

  /**
   * Stores a manifest under a tag or its digest (spec "Pushing Manifests"). The bytes are kept exactly as sent;
   * every blob and child manifest it references must already be in the repository (MANIFEST_BLOB_UNKNOWN),
   * except its `subject`, which may arrive later.
   */
  async putManifest(
    repo: string,
    ref: Reference,
    content: Buffer,
    contentType: string | undefined,
    extraTags: string[] = [],
  ): Promise<PutManifestResult> {
    assertName(repo);
    if (content.length > MAX_MANIFEST_BYTES) {
      throw new RegistryError(
        'SIZE_INVALID',
        `manifest is larger than the ${MAX_MANIFEST_BYTES}-byte limit`,
        { limit: MAX_MANIFEST_BYTES, size: content.length },
        413,
      );
    }
    const algorithm: DigestAlgorithm = ref.kind === 'digest' ? ref.digest.algorithm : 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(content).digest('hex')}`;
    if (ref.kind === 'digest' && ref.digest.digest !== digest) {
      throw new RegistryError('DIGEST_INVALID', 'manifest digest does not match its content', {
        expected: ref.digest.digest,
        actual: digest,
      });
    }
    if (extraTags.length > 0 && ref.kind !== 'digest') {
      throw new RegistryError(
        'UNSUPPORTED',
        'tag query parameters are only accepted when pushing by digest',
        {},
        400,
      );
    }
    const tags = [...new Set([...(ref.kind === 'tag' ? [ref.tag] : []), ...extraTags.map(assertTag)])];
    const parsed = parseManifest(content, contentType);
    const missing = await this.meta.putManifest({
      repo,
      digest,
      mediaType: parsed.mediaType,
      content,
      subject: parsed.subject?.digest,
      artifactType: parsed.artifactType,
      annotations: parsed.annotations,
      blobs: parsed.blobs,
      manifests: parsed.manifests,
      tags,
    });
    if (missing.length > 0) {
      throw new RegistryError(
        'MANIFEST_BLOB_UNKNOWN',
        `manifest references ${missing.length} blob(s) or manifest(s) unknown to this repository`,
        { missing },
      );
    }
    return { digest, subject: parsed.subject?.digest, tags };
  }

  // ── content discovery ──

  async listTags(repo: string, n?: number, last = ''): Promise<Page<string>> {
    await this.requireRepo(repo);
    return paginate((after, limit) => this.meta.tags(repo, after, limit), n, last);
  }

  catalog(n?: number, last = ''): Promise<Page<string>> {
    return paginate((after, limit) => this.meta.repositories(after, limit), n, last);
  }

  /**
   * The referrers of `subject` in the repository as descriptors (spec "Listing Referrers"); an unknown
   * repository or subject has none. artifactType falls back to the config's media type (stored at push).
   */
  async referrers(repo: string, subject: ParsedDigest, artifactType?: string): Promise<Descriptor[]> {
    assertName(repo);
    return (await this.meta.referrers(repo, subject.digest))
      .filter((r) => artifactType === undefined || r.artifactType === artifactType)
      .map(toDescriptor);
  }

  // ── content management ──

  /** Deletes a tag (by tag) or a manifest and all its tags (by digest) (spec "Deleting tags/manifests"). */
  async deleteManifest(repo: string, ref: Reference): Promise<void> {
    await this.requireRepo(repo);
    const gone =
      ref.kind === 'tag'
        ? await this.meta.deleteTag(repo, ref.tag)
        : await this.meta.deleteManifest(repo, ref.digest.digest);
    if (!gone) {
      throw new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown to registry', {
        reference: ref.kind === 'digest' ? ref.digest.digest : ref.tag,
      });
    }
  }

  /** Removes the blob from the repository; its bytes go at the next gc if nothing else uses them. */
  async deleteBlob(repo: string, digest: ParsedDigest): Promise<void> {
    await this.requireRepo(repo);
    if (!(await this.meta.unlinkBlob(repo, digest.digest))) {
      throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest: digest.digest });
    }
  }

  // ── garbage collection ──

  /**
   * Deletes blob files no manifest references and upload sessions nobody finished, both only when untouched
   * for the grace period so that pushes in flight (blobs uploaded, manifest not yet) are not broken.
   */
  async collectGarbage(options: GcOptions = {}): Promise<GcReport> {
    const cutoff = Date.now() - (options.graceMs ?? DEFAULT_GC_GRACE_MS);
    const report: GcReport = {
      blobsDeleted: [],
      bytesFreed: 0,
      uploadsDeleted: [],
      manifestContentDeleted: 0,
    };
    const referenced = await this.meta.referencedBlobs();
    for await (const blob of this.blobs.listBlobs()) {
      let digest: ParsedDigest;
      try {
        digest = parseDigest(blob.digest);
      } catch {
        continue; // not a blob (a stray file); left alone
      }
      if (referenced.has(digest.digest) || blob.modifiedAt >= cutoff) continue;
      const linked = await this.meta.lastLinked(digest.digest);
      if (linked !== undefined && linked >= cutoff) continue;
      if (!options.dryRun) {
        if (!(await this.meta.unlinkIfUnreferenced(digest.digest))) continue;
        await this.blobs.deleteBlob(digest);
      }
      report.blobsDeleted.push(digest.digest);
      report.bytesFreed += blob.size;
    }
    for await (const id of this.uploads.stale(cutoff)) {
      if (!options.dryRun) await this.uploads.discard(id);
      report.uploadsDeleted.push(id);
    }
    if (!options.dryRun) report.manifestContentDeleted = await this.meta.dropOrphanContent();
    return report;
  }
}

function toDescriptor(r: Referrer): Descriptor {
  const d: Descriptor = { mediaType: r.mediaType, digest: r.digest, size: r.size };
  if (r.artifactType) d.artifactType = r.artifactType;
  if (r.annotations) d.annotations = r.annotations;
  return d;
}

/** Largest page served when the client asks for everything (a Link header points at the rest). */
export const MAX_PAGE = 10_000;

async function paginate(
  fetch: (after: string, limit: number) => Promise<string[]>,
  n: number | undefined,
  last: string,
): Promise<Page<string>> {
  const want = n === undefined ? MAX_PAGE : Math.min(n, MAX_PAGE);
  if (want === 0) return { items: [] };
  const rows = await fetch(last, want + 1);
  if (rows.length > want) {
    const items = rows.slice(0, want);
    return { items, next: items[items.length - 1] };
  }
  return { items: rows };
}
