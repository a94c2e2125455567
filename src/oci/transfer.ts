// Moving a signed image with everything attached to it, for `sigil copy` (registry → registry), `sigil save`
// (registry → OCI image layout directory) and `sigil load` (layout → registry), as cosign copy/save/load do: the
// image (an index with its manifests, or one manifest) and its blobs, cosign's `.sig`/`.att`/`.sbom` tags, and the
// OCI referrers naming it (Sigstore bundles). Both ends are an ImageStore; blobs stream through, manifests keep
// their exact bytes so every digest, and so every signature, stays valid.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  cosignTag,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  isIndexMediaType,
} from '../formats/index.js';
import type { RegistryClient } from './client.js';
import { parseDigest, verifyingStream } from './digest.js';
import { OciError } from './errors.js';
import type { ImageReference } from './reference.js';

export interface StoredManifest {
  bytes: Buffer;
  mediaType: string;
}

/** One end of a transfer: a registry repository, or an OCI image layout directory. */
export interface ImageStore {
  getManifest(digest: string): Promise<StoredManifest>;
  getBlob(digest: string, size: number): Promise<Readable>;
  hasBlob(digest: string): Promise<boolean>;
  putBlob(digest: string, size: number, data: Readable): Promise<void>;
  /** Stores a manifest by its digest, and under `tag` too when given. */
  putManifest(m: StoredManifest, digest: string, tag?: string): Promise<void>;
  /** The digest a tag names, or undefined when there is no such tag. */
  resolveTag(tag: string): Promise<string | undefined>;
  referrers(digest: string): Promise<Descriptor[]>;
}

export interface TransferReport {
  manifests: number;
  blobs: number;
  signatureTags: string[];
  referrers: number;
}

const SIGNATURE_SUFFIXES = ['sig', 'att', 'sbom'];

/** Copies the image `digest` (tagged `tag` at the destination), its cosign tags and its referrers. */
export async function transferImage(
  src: ImageStore,
  dst: ImageStore,
  digest: string,
  tag?: string,
): Promise<TransferReport> {
  const report: TransferReport = { manifests: 0, blobs: 0, signatureTags: [], referrers: 0 };
  const copied = new Set<string>();
  const copyTree = async (d: string, asTag?: string): Promise<void> => {
    const m = await src.getManifest(d);
    if (!copied.has(d)) {
      copied.add(d);
      const json = JSON.parse(m.bytes.toString('utf8')) as ImageManifest | ImageIndex;
      if (isIndexMediaType(m.mediaType) || 'manifests' in json) {
        for (const child of (json as ImageIndex).manifests ?? []) await copyTree(child.digest);
      } else {
        const blobs = [(json as ImageManifest).config, ...((json as ImageManifest).layers ?? [])];
        for (const b of blobs) {
          if (!b?.digest || (await dst.hasBlob(b.digest))) continue;
          await dst.putBlob(b.digest, b.size, await src.getBlob(b.digest, b.size));
          report.blobs++;
        }
      }
      report.manifests++;
    }
    await dst.putManifest(m, d, asTag);
  };
  await copyTree(digest, tag);
  for (const suffix of SIGNATURE_SUFFIXES) {
    const t = cosignTag(digest, suffix);
    const at = await src.resolveTag(t);
    if (!at) continue;
    await copyTree(at, t);
    report.signatureTags.push(t);
  }
  for (const r of await src.referrers(digest)) {
    await copyTree(r.digest);
    report.referrers++;
  }
  return report;
}

/** A repository of a registry as an ImageStore. */
export function registryStore(client: RegistryClient, repo: ImageReference): ImageStore {
  const at = (x: Partial<ImageReference>) => ({ registry: repo.registry, repository: repo.repository, ...x });
  return {
    async getManifest(digest) {
      const m = await client.getManifest(at({ digest }));
      return { bytes: m.bytes, mediaType: m.mediaType };
    },
    getBlob: (digest, size) => client.getBlob(at({}), digest, size),
    hasBlob: (digest) => client.blobExists(at({}), digest),
    async putBlob(digest, size, data) {
      await client.uploadBlob(at({}), { digest, size, open: () => data });
    },
    async putManifest(m, digest, tag) {
      await client.putManifest(at(tag ? { tag } : { digest }), m.bytes, m.mediaType);
    },
    async resolveTag(tag) {
      try {
        return (await client.resolve(at({ tag }))).digest;
      } catch (err) {
        if ((err as OciError).code === 'NOT_FOUND') return undefined;
        throw err;
      }
    },
    async referrers(digest) {
      return (await client.referrers(at({ digest }))).manifests;
    },
  };
}

const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * An OCI image layout directory (image-spec image-layout.md): `oci-layout`, `index.json` naming the manifests
 * (tags as org.opencontainers.image.ref.name), every blob and manifest under `blobs/<alg>/<hex>`.
 */
export async function layoutStore(
  dir: string,
  create: boolean,
): Promise<ImageStore & { entries(): Promise<Descriptor[]> }> {
  const indexPath = join(dir, 'index.json');
  if (create) {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}\n');
    await readFile(indexPath).catch(() =>
      writeFile(indexPath, `${JSON.stringify({ schemaVersion: 2, manifests: [] })}\n`),
    );
  } else {
    await stat(join(dir, 'oci-layout')).catch(() => {
      throw new OciError('BAD_REFERENCE', `${dir} is not an OCI image layout (no oci-layout file)`);
    });
  }
  const blobPath = (digest: string) => {
    const { algorithm, hex } = parseDigest(digest);
    return join(dir, 'blobs', algorithm, hex);
  };
  const readIndex = async () => JSON.parse(await readFile(indexPath, 'utf8')) as ImageIndex;
  const exists = (p: string) =>
    stat(p).then(
      () => true,
      () => false,
    );
  return {
    async entries() {
      return (await readIndex()).manifests;
    },
    async getManifest(digest) {
      const bytes = await readFile(blobPath(digest));
      const entry = (await readIndex()).manifests.find((m) => m.digest === digest);
      const json = JSON.parse(bytes.toString('utf8')) as { mediaType?: string };
      return {
        bytes,
        mediaType: entry?.mediaType ?? json.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
      };
    },
    async getBlob(digest, size) {
      return createReadStream(blobPath(digest)).pipe(
        verifyingStream(digest, size, `blob ${digest} in ${dir}`),
      );
    },
    hasBlob: (digest) => exists(blobPath(digest)),
    async putBlob(digest, size, data) {
      const tmp = `${blobPath(digest)}.tmp`;
      await pipeline(data, verifyingStream(digest, size, `blob ${digest}`), createWriteStream(tmp));
      await rename(tmp, blobPath(digest));
    },
    async putManifest(m, digest, tag) {
      await writeFile(blobPath(digest), m.bytes);
      const index = await readIndex();
      const entry: Descriptor = { mediaType: m.mediaType, digest, size: m.bytes.length };
      if (tag) entry.annotations = { [REF_NAME]: tag };
      // One entry per tag (a new save replaces it), and one untagged entry per digest.
      index.manifests = index.manifests.filter((e) =>
        tag ? e.annotations?.[REF_NAME] !== tag : !(e.digest === digest && !e.annotations?.[REF_NAME]),
      );
      index.manifests.push(entry);
      await writeFile(indexPath, `${JSON.stringify(index, null, 2)}\n`);
    },
    async resolveTag(tag) {
      return (await readIndex()).manifests.find((e) => e.annotations?.[REF_NAME] === tag)?.digest;
    },
    async referrers(digest) {
      const out: Descriptor[] = [];
      for (const e of (await readIndex()).manifests) {
        if (e.annotations?.[REF_NAME]) continue;
        const json = JSON.parse((await readFile(blobPath(e.digest))).toString('utf8')) as {
          subject?: Descriptor;
        };
        if (json.subject?.digest === digest) out.push(e);
      }
      return out;
    },
  };
}
