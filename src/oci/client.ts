// The OCI distribution client: what sign/verify/image/triangulate need from a registry, over distribution-spec
// v1.1 (opencontainers/distribution-spec spec.md): resolve, pull and push manifests, check/upload/download blobs
// (monolithic, chunked, cross-repository mount), list tags, and list referrers with the tag-schema fallback.
// Every byte read is checked against the digest it was asked for or served under.
import { Readable, Transform } from 'node:stream';
import {
  bareMediaType,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  isIndexMediaType,
  MANIFEST_ACCEPT,
  OCI_INDEX,
} from '../formats/index.js';
import type { HttpResponse } from '../net/index.js';
import { credentialsFromAuthFiles } from './auth.js';
import { digestOf, parseDigest, verifyDigest, verifyingStream } from './digest.js';
import { errorForStatus, OciError } from './errors.js';
import { formatReference, type ImageReference, manifestReference, repositoryName } from './reference.js';
import { addReferrer, filterByArtifactType, referrerDescriptor, referrersTag } from './referrers.js';
import { type BodyFactory, repositoryScope, Transport, type TransportOptions } from './transport.js';

export interface RegistryClientOptions extends TransportOptions {
  /** Read ~/.docker/config.json, $DOCKER_CONFIG, $REGISTRY_AUTH_FILE when no credentials are given. Default true. */
  useAuthFiles?: boolean;
  /** Environment used to find auth files (tests point it elsewhere). */
  env?: NodeJS.ProcessEnv;
  /** Told about things the user should know but that do not stop the operation (e.g. resolving a tag). */
  onWarning?: (message: string) => void;
  /** Blobs larger than this are uploaded in chunks of this size. Default 16 MiB. */
  chunkSize?: number;
  /** Largest manifest or index accepted. Default 8 MiB (distribution-spec: clients SHOULD handle at least 4 MB). */
  maxManifestBytes?: number;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
  /** The parsed JSON (an image manifest or an index; check `mediaType`). */
  json: ImageManifest | ImageIndex;
}

export interface PushedManifest {
  digest: string;
  size: number;
  mediaType: string;
  /** Set when the registry did not process `subject` and the client updated the referrers tag itself. */
  referrersTag?: string;
}

/** A blob to upload: its digest and size, and a way to read it (again, if authentication makes us retry). */
export interface BlobSource {
  digest: string;
  size: number;
  open: () => Buffer | Uint8Array | Readable;
}

export interface UploadOptions {
  /** Repository (same registry) that may already hold the blob: tried as a cross-repository mount first. */
  mountFrom?: string;
  onProgress?: (sent: number, total: number) => void;
}

export type UploadOutcome = 'existed' | 'mounted' | 'uploaded';

export interface Referrers {
  manifests: Descriptor[];
  /** Where the list came from: the referrers API, or the `<alg>-<hex>` tag of the fallback schema. */
  source: 'api' | 'tag-schema';
}

export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
export const DEFAULT_MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

export class RegistryClient {
  private readonly transport: Transport;
  private readonly chunkSize: number;
  private readonly maxManifestBytes: number;

  constructor(private readonly options: RegistryClientOptions = {}) {
    const env = options.env ?? process.env;
    this.transport = new Transport({
      ...options,
      credentialsFor:
        options.credentialsFor ??
        (options.useAuthFiles === false
          ? undefined
          : (registry, repo) => credentialsFromAuthFiles(registry, repo, env)),
    });
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  }

  /** GET /v2/: checks the registry speaks the API and that our credentials (if it wants any) are accepted. */
  async ping(registry: string): Promise<void> {
    const res = await this.transport.request({
      registry,
      method: 'GET',
      url: '/v2/',
      scopes: [],
      what: `GET ${registry}/v2/`,
    });
    drain(res);
    if (!res.ok) throw errorForStatus(res.status, `GET ${registry}/v2/`, '');
  }

  /**
   * Tag or digest → digest, media type and size (HEAD on the manifest). Resolving a tag calls onWarning: a tag
   * can move, so what is signed or verified should be named by digest.
   */
  async resolve(ref: ImageReference): Promise<Descriptor> {
    const reference = manifestReference(ref);
    const what = `resolve ${formatReference(ref)}`;
    const res = await this.request(
      ref,
      'HEAD',
      `/v2/${ref.repository}/manifests/${reference}`,
      'pull',
      what,
      {
        accept: MANIFEST_ACCEPT,
      },
    );
    drain(res);
    if (!res.ok) throw errorForStatus(res.status, what, '');
    let digest = res.headers.get('docker-content-digest') ?? undefined;
    const mediaType = bareMediaType(res.headers.get('content-type'));
    let size = Number(res.headers.get('content-length') ?? Number.NaN);
    if (ref.digest) {
      // By digest the answer is known; a registry saying otherwise is wrong.
      if (digest && digest !== ref.digest) {
        throw new OciError('DIGEST_MISMATCH', `${what}: registry reports ${digest}`);
      }
      digest = ref.digest;
    } else {
      if (!digest || !Number.isFinite(size)) {
        // The header is a SHOULD; without it the digest is that of the bytes.
        const m = await this.getManifest(ref);
        digest = m.digest;
        size = m.bytes.length;
      }
      parseDigest(digest);
      this.options.onWarning?.(
        `resolved tag ${formatReference(ref)} to ${digest}; a tag can move, prefer ${repositoryName(ref)}@${digest}`,
      );
    }
    return { mediaType, digest, size };
  }

  /** GET a manifest or index; by digest the bytes are verified, by tag the digest is computed from them. */
  async getManifest(ref: ImageReference, accept = MANIFEST_ACCEPT): Promise<FetchedManifest> {
    const reference = manifestReference(ref);
    const what = `manifest ${formatReference(ref)}`;
    const res = await this.request(ref, 'GET', `/v2/${ref.repository}/manifests/${reference}`, 'pull', what, {
      accept,
    });
    if (!res.ok) throw errorForStatus(res.status, what, await res.text().catch(() => ''));
    const bytes = await readLimited(res, this.maxManifestBytes, what);
    const algorithm = ref.digest ? parseDigest(ref.digest).algorithm : 'sha256';
    const digest = digestOf(bytes, algorithm);
    if (ref.digest) verifyDigest(bytes, ref.digest, what);
    const served = res.headers.get('docker-content-digest');
    if (served?.startsWith(`${algorithm}:`) && served !== digest) {
      throw new OciError('DIGEST_MISMATCH', `${what}: served as ${served} but the bytes hash to ${digest}`);
    }
    let json: ImageManifest | ImageIndex;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new OciError('BAD_RESPONSE', `${what}: not JSON`);
    }
    if (typeof json !== 'object' || json === null || json.schemaVersion !== 2) {
      throw new OciError('BAD_RESPONSE', `${what}: not a schemaVersion 2 manifest`);
    }
    const mediaType = json.mediaType ?? bareMediaType(res.headers.get('content-type'));
    return { bytes, mediaType, digest, json };
  }

  /**
   * PUT a manifest under `ref`'s tag (or its digest when it has no tag). `manifest` is sent byte-for-byte when a
   * Buffer, else serialised. When the manifest has a `subject` and the registry does not answer `OCI-Subject`,
   * the referrers tag schema index is updated (distribution-spec "Pushing Manifests with Subject").
   */
  async putManifest(
    ref: ImageReference,
    manifest: Buffer | ImageManifest | ImageIndex,
    mediaType?: string,
  ): Promise<PushedManifest> {
    const bytes = Buffer.isBuffer(manifest) ? manifest : Buffer.from(JSON.stringify(manifest), 'utf8');
    let parsed: ImageManifest | ImageIndex;
    try {
      parsed = Buffer.isBuffer(manifest) ? JSON.parse(bytes.toString('utf8')) : manifest;
    } catch {
      throw new OciError('BAD_REFERENCE', `manifest for ${formatReference(ref)} is not JSON`);
    }
    const type = mediaType ?? parsed.mediaType;
    if (!type) throw new OciError('BAD_REFERENCE', `manifest for ${formatReference(ref)} has no mediaType`);
    if (parsed.mediaType && parsed.mediaType !== type) {
      throw new OciError('BAD_REFERENCE', `manifest mediaType ${parsed.mediaType} differs from ${type}`);
    }
    const digest = digestOf(bytes);
    if (ref.digest && !ref.tag && ref.digest !== digest) {
      throw new OciError('DIGEST_MISMATCH', `manifest hashes to ${digest}, not ${ref.digest}`);
    }
    const reference = ref.tag ?? digest;
    const what = `push manifest ${repositoryName(ref)}:${reference}`;
    const res = await this.request(
      ref,
      'PUT',
      `/v2/${ref.repository}/manifests/${reference}`,
      'pull,push',
      what,
      { 'content-type': type },
      () => bytes,
    );
    const text = await res.text().catch(() => '');
    if (res.status !== 201 && res.status !== 200) throw errorForStatus(res.status, what, text);
    const served = res.headers.get('docker-content-digest');
    if (served && served !== digest) {
      throw new OciError(
        'DIGEST_MISMATCH',
        `${what}: registry stored it as ${served}, the bytes hash to ${digest}`,
      );
    }
    const pushed: PushedManifest = { digest, size: bytes.length, mediaType: type };
    if (parsed.subject && !res.headers.get('oci-subject')) {
      pushed.referrersTag = await this.addToReferrersTag(ref, parsed.subject.digest, {
        ...referrerDescriptor(parsed, type),
        digest,
        size: bytes.length,
      });
    }
    return pushed;
  }

  /** DELETE a manifest by digest (registries may refuse: 405). */
  async deleteManifest(ref: ImageReference, digest: string): Promise<void> {
    parseDigest(digest);
    const what = `delete manifest ${repositoryName(ref)}@${digest}`;
    const res = await this.request(
      ref,
      'DELETE',
      `/v2/${ref.repository}/manifests/${digest}`,
      'pull,push',
      what,
    );
    const text = await res.text().catch(() => '');
    if (res.status !== 202 && res.status !== 200) throw errorForStatus(res.status, what, text);
  }

  /** HEAD a blob: its size when present, undefined on 404. */
  async blobSize(ref: ImageReference, digest: string): Promise<number | undefined> {
    parseDigest(digest);
    const what = `blob ${repositoryName(ref)}@${digest}`;
    const res = await this.request(ref, 'HEAD', `/v2/${ref.repository}/blobs/${digest}`, 'pull', what);
    drain(res);
    if (res.status === 404) return undefined;
    if (!res.ok) throw errorForStatus(res.status, what, '');
    const size = Number(res.headers.get('content-length'));
    return Number.isFinite(size) ? size : 0;
  }

  async blobExists(ref: ImageReference, digest: string): Promise<boolean> {
    return (await this.blobSize(ref, digest)) !== undefined;
  }

  /**
   * Makes sure `blob` is in `ref`'s repository: nothing to do when it already is; else a cross-repository mount
   * from `mountFrom`; else an upload, monolithic (POST then PUT) up to chunkSize and chunked (PATCH…) above.
   */
  async uploadBlob(
    ref: ImageReference,
    blob: BlobSource,
    options: UploadOptions = {},
  ): Promise<UploadOutcome> {
    parseDigest(blob.digest);
    const progress = options.onProgress ?? (() => {});
    if (await this.blobExists(ref, blob.digest)) {
      progress(blob.size, blob.size);
      return 'existed';
    }
    const name = repositoryName(ref);
    const what = `upload blob ${name}@${blob.digest}`;
    let start: HttpResponse;
    if (options.mountFrom && options.mountFrom !== ref.repository) {
      const q = new URLSearchParams({ mount: blob.digest, from: options.mountFrom });
      start = await this.request(
        ref,
        'POST',
        `/v2/${ref.repository}/blobs/uploads/?${q}`,
        'pull,push',
        what,
        {
          'content-length': '0',
        },
        undefined,
        [repositoryScope(options.mountFrom, 'pull')],
      );
      const text = await start.text().catch(() => '');
      if (start.status === 201) {
        progress(blob.size, blob.size);
        return 'mounted';
      }
      if (start.status !== 202) throw errorForStatus(start.status, what, text);
    } else {
      start = await this.request(ref, 'POST', `/v2/${ref.repository}/blobs/uploads/`, 'pull,push', what, {
        'content-length': '0',
      });
      const text = await start.text().catch(() => '');
      if (start.status !== 202) throw errorForStatus(start.status, what, text);
    }
    let location = uploadLocation(start, what);
    if (blob.size > this.chunkSize) {
      location = await this.uploadChunks(ref, location, blob, what, progress);
      const res = await this.request(ref, 'PUT', withDigestParam(location, blob.digest), 'pull,push', what, {
        'content-length': '0',
      });
      await this.expectCreated(res, what);
    } else {
      const res = await this.request(
        ref,
        'PUT',
        withDigestParam(location, blob.digest),
        'pull,push',
        what,
        { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
        () => counted(blob.open(), (n) => progress(n, blob.size)),
      );
      await this.expectCreated(res, what);
    }
    progress(blob.size, blob.size);
    return 'uploaded';
  }

  private async uploadChunks(
    ref: ImageReference,
    firstLocation: string,
    blob: BlobSource,
    what: string,
    progress: (sent: number, total: number) => void,
  ): Promise<string> {
    let location = firstLocation;
    let offset = 0;
    for await (const chunk of rechunk(toReadable(blob.open()), this.chunkSize)) {
      const end = offset + chunk.length - 1;
      const res = await this.request(
        ref,
        'PATCH',
        location,
        'pull,push',
        what,
        {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${end}`,
          'content-length': String(chunk.length),
        },
        () => chunk,
      );
      const text = await res.text().catch(() => '');
      if (res.status !== 202) throw errorForStatus(res.status, `${what} (chunk ${offset}-${end})`, text);
      location = uploadLocation(res, what);
      offset = end + 1;
      progress(offset, blob.size);
    }
    if (offset !== blob.size) {
      throw new OciError('DIGEST_MISMATCH', `${what}: source gave ${offset} bytes, expected ${blob.size}`);
    }
    return location;
  }

  private async expectCreated(res: HttpResponse, what: string): Promise<void> {
    const text = await res.text().catch(() => '');
    if (res.status !== 201) throw errorForStatus(res.status, what, text);
  }

  /** GET a blob as a stream that errors (before its end) unless the bytes match `digest` (and `size`, if given). */
  async getBlob(ref: ImageReference, digest: string, size?: number): Promise<Readable> {
    parseDigest(digest);
    const what = `blob ${repositoryName(ref)}@${digest}`;
    const res = await this.request(ref, 'GET', `/v2/${ref.repository}/blobs/${digest}`, 'pull', what);
    if (!res.ok) throw errorForStatus(res.status, what, await res.text().catch(() => ''));
    const source = res.body;
    const check = verifyingStream(digest, size, what);
    source.on('error', (err) =>
      check.destroy(new OciError('NETWORK', `${what}: ${err.message}`, undefined, { cause: err })),
    );
    // A reader that stops early (too large, digest mismatch) must release the connection too.
    check.on('close', () => {
      if (!source.readableEnded) res.discard();
    });
    return source.pipe(check);
  }

  /** A verified blob read into memory, refusing more than `maxBytes`. */
  async getBlobBytes(ref: ImageReference, digest: string, maxBytes = this.maxManifestBytes): Promise<Buffer> {
    const stream = await this.getBlob(ref, digest);
    const parts: Buffer[] = [];
    let total = 0;
    for await (const chunk of stream) {
      total += chunk.length;
      if (total > maxBytes) {
        stream.destroy();
        throw new OciError(
          'TOO_LARGE',
          `blob ${repositoryName(ref)}@${digest} is larger than ${maxBytes} bytes`,
        );
      }
      parts.push(chunk);
    }
    return Buffer.concat(parts);
  }

  /** All tags of a repository, sorted, following `Link: <…>; rel="next"` pagination. */
  async listTags(ref: ImageReference): Promise<string[]> {
    const tags: string[] = [];
    let url: string | undefined = `/v2/${ref.repository}/tags/list`;
    const what = `list tags of ${repositoryName(ref)}`;
    for (let page = 0; url && page < 10_000; page++) {
      const res = await this.request(ref, 'GET', url, 'pull', what);
      const text = await res.text().catch(() => '');
      if (!res.ok) throw errorForStatus(res.status, what, text);
      let body: { tags?: string[] | null };
      try {
        body = JSON.parse(text);
      } catch {
        throw new OciError('BAD_RESPONSE', `${what}: not JSON`);
      }
      tags.push(...(body.tags ?? []));
      url = nextLink(res.headers.get('link'));
    }
    // The spec requires lexical order; some registries (distribution 2.8) return directory order.
    return tags.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Manifests whose `subject` is `ref.digest`, optionally only those of one artifactType. Uses the referrers API
   * and, when it answers 404, the referrers tag schema (distribution-spec "Unavailable Referrers API").
   */
  async referrers(ref: ImageReference, artifactType?: string): Promise<Referrers> {
    if (!ref.digest)
      throw new OciError('BAD_REFERENCE', `referrers of ${formatReference(ref)}: need a digest`);
    const what = `referrers of ${repositoryName(ref)}@${ref.digest}`;
    const q = artifactType ? `?${new URLSearchParams({ artifactType })}` : '';
    const res = await this.request(
      ref,
      'GET',
      `/v2/${ref.repository}/referrers/${ref.digest}${q}`,
      'pull',
      what,
      {
        accept: OCI_INDEX,
      },
    );
    if (res.status === 404) {
      drain(res);
      const index = await this.referrersTagIndex(ref, ref.digest);
      return { manifests: filterByArtifactType(index?.manifests ?? [], artifactType), source: 'tag-schema' };
    }
    const manifests: Descriptor[] = [];
    let page: HttpResponse | undefined = res;
    for (let n = 0; page; n++) {
      if (!page.ok) throw errorForStatus(page.status, what, await page.text().catch(() => ''));
      const bytes = await readLimited(page, this.maxManifestBytes, what);
      let index: ImageIndex;
      try {
        index = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new OciError('BAD_RESPONSE', `${what}: not JSON`);
      }
      // The filter is a SHOULD for registries; apply it ourselves when they say they did not.
      const applied = (page.headers.get('oci-filters-applied') ?? '').split(',').map((s) => s.trim());
      const listed = Array.isArray(index.manifests) ? index.manifests : [];
      manifests.push(
        ...(applied.includes('artifactType') ? listed : filterByArtifactType(listed, artifactType)),
      );
      // Long lists come in pages linked by `Link: <…>; rel="next"` (spec "Listing Referrers").
      const next = nextLink(page.headers.get('link'));
      if (next && n >= 1000) throw new OciError('BAD_RESPONSE', `${what}: more than 1000 pages`);
      page = next ? await this.request(ref, 'GET', next, 'pull', what, { accept: OCI_INDEX }) : undefined;
    }
    return { manifests, source: 'api' };
  }

  /** The index under the referrers tag of `subjectDigest`, or undefined when absent or not an index. */
  private async referrersTagIndex(
    ref: ImageReference,
    subjectDigest: string,
  ): Promise<ImageIndex | undefined> {
    const tagRef = { registry: ref.registry, repository: ref.repository, tag: referrersTag(subjectDigest) };
    try {
      // Accept every manifest type: asking for indexes only makes some registries (distribution 2.8) answer 404
      // for a tag that holds an image manifest, which would then be overwritten.
      const m = await this.getManifest(tagRef);
      return isIndexMediaType(m.mediaType) && Array.isArray((m.json as ImageIndex).manifests)
        ? (m.json as ImageIndex)
        : undefined;
    } catch (err) {
      if (err instanceof OciError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** Appends `descriptor` to the referrers tag index of `subjectDigest` (creating it), unless already listed. */
  private async addToReferrersTag(
    ref: ImageReference,
    subjectDigest: string,
    descriptor: Descriptor,
  ): Promise<string> {
    const tag = referrersTag(subjectDigest);
    const tagRef = { registry: ref.registry, repository: ref.repository, tag };
    let existing: FetchedManifest | undefined;
    try {
      existing = await this.getManifest(tagRef); // all types: see referrersTagIndex
    } catch (err) {
      if (!(err instanceof OciError && err.code === 'NOT_FOUND')) throw err;
    }
    if (existing && !isIndexMediaType(existing.mediaType)) {
      throw new OciError(
        'BAD_RESPONSE',
        `referrers tag ${repositoryName(ref)}:${tag} holds a ${existing.mediaType}, not an image index; left unchanged`,
      );
    }
    const updated = addReferrer(existing?.json as ImageIndex | undefined, descriptor);
    if (updated) await this.putManifest(tagRef, updated, OCI_INDEX);
    return tag;
  }

  private request(
    ref: ImageReference,
    method: string,
    url: string,
    actions: 'pull' | 'pull,push',
    what: string,
    headers: Record<string, string> = {},
    body?: BodyFactory,
    extraScopes: string[] = [],
  ): Promise<HttpResponse> {
    return this.transport.request({
      registry: ref.registry,
      repository: ref.repository,
      method,
      url,
      headers,
      body,
      scopes: [repositoryScope(ref.repository, actions), ...extraScopes],
      what,
    });
  }
}

/** Releases a response whose body we do not need. */
function drain(res: HttpResponse): void {
  res.discard();
}

async function readLimited(res: HttpResponse, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    drain(res);
    throw new OciError('TOO_LARGE', `${what}: ${declared} bytes is more than the ${max} this client accepts`);
  }
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) {
      drain(res);
      throw new OciError('TOO_LARGE', `${what}: more than the ${max} bytes this client accepts`);
    }
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

/** The upload session URL from a 202 (spec: absolute or relative). */
function uploadLocation(res: HttpResponse, what: string): string {
  const location = res.headers.get('location');
  if (!location)
    throw new OciError('BAD_RESPONSE', `${what}: registry answered ${res.status} without a Location`);
  return new URL(location, res.url).toString();
}

/** Adds `digest=` to an upload URL, keeping the registry's own query parameters (spec: they MAY be critical). */
function withDigestParam(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

/** RFC 5988 `Link: </v2/…?last=x&n=y>; rel="next"` → the URL, if any. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

/** Reports bytes read from a stream body as they go (a Buffer body is reported whole by the caller). */
function counted(
  body: Buffer | Uint8Array | Readable,
  report: (n: number) => void,
): Buffer | Uint8Array | Readable {
  if (!(body instanceof Readable)) return body;
  let n = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      report(n);
      cb(null, chunk);
    },
  });
  body.on('error', (err) => counter.destroy(err));
  return body.pipe(counter);
}

function toReadable(body: Buffer | Uint8Array | Readable): Readable {
  return body instanceof Readable ? body : Readable.from([Buffer.from(body)]);
}

/** Re-slices a stream into chunks of exactly `size` bytes (the last may be shorter). */
async function* rechunk(source: AsyncIterable<Buffer | Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingLength = 0;
  for await (const piece of source) {
    let buf = Buffer.from(piece);
    while (pendingLength + buf.length >= size) {
      const take = size - pendingLength;
      pending.push(buf.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      pendingLength = 0;
      buf = buf.subarray(take);
    }
    if (buf.length) {
      pending.push(buf);
      pendingLength += buf.length;
    }
  }
  if (pendingLength) yield Buffer.concat(pending);
}
