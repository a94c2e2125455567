// `sigil image build`: packs a directory into a single-layer OCI image (image-spec manifest.md, config.md,
// layer.md) and writes it as an OCI image layout (image-layout.md), without a container engine. Reproducible:
// entries sorted bytewise, owner 0:0, one fixed mtime (SOURCE_DATE_EPOCH or 0), modes normalised to
// 0755/0644, gzip header with mtime 0 and OS byte 3 — so the same directory and options give the same digest.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import {
  type BlobSource,
  type Descriptor,
  digestOf,
  type ImageManifest,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
} from '../oci/index.js';
import { type TarEntry, tarStream } from './tar.js';

export interface BuildOptions {
  architecture?: string;
  os?: string;
  /** CPU variant, e.g. v8 for arm64 (config.md `variant`). */
  variant?: string;
  entrypoint?: string[];
  cmd?: string[];
  /** `KEY=VALUE` strings, in order. */
  env?: string[];
  workdir?: string;
  labels?: Record<string, string>;
  user?: string;
  /** Seconds since the epoch for every mtime and the config's `created`; default 0 (reproducible-builds.org). */
  sourceDateEpoch?: number;
  /** Where to write the OCI image layout; a fresh temp dir when absent. */
  ociLayout?: string;
  /** `org.opencontainers.image.ref.name` of the manifest in the layout's index.json (e.g. the tag). */
  refName?: string;
}

export interface BuiltBlob extends Descriptor {
  /** Path of the blob inside the layout. */
  path: string;
}

export interface BuiltImage {
  layoutDir: string;
  manifest: Buffer;
  manifestDigest: string;
  config: BuiltBlob;
  layers: (BuiltBlob & { diffId: string })[];
  /** Config and layers as upload sources (layers first, then config: what a manifest needs to be accepted). */
  blobs: BlobSource[];
}

/** Lists `root` as tar entries: relative POSIX paths, sorted bytewise, directories before their contents. */
export async function walkDirectory(root: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  async function visit(dir: string): Promise<void> {
    const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const full = join(dir, name);
      const path = relative(root, full).split(sep).join('/');
      const st = await lstat(full);
      if (st.isDirectory()) {
        entries.push({ type: 'dir', path, mode: 0o755 });
        await visit(full);
      } else if (st.isFile()) {
        // Only the executable bit survives: umask and checkout tools must not change the digest.
        entries.push({
          type: 'file',
          path,
          mode: st.mode & 0o111 ? 0o755 : 0o644,
          size: st.size,
          source: full,
        });
      } else if (st.isSymbolicLink()) {
        entries.push({ type: 'symlink', path, mode: 0o777, target: await readlink(full) });
      } else {
        throw new Error(`cannot pack ${full}: only regular files, directories and symlinks go into an image`);
      }
    }
  }
  const st = await lstat(root).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`${root} is not a directory`);
  await visit(root);
  return entries;
}

/** A Transform that hashes what passes through (to get digests while streaming to disk). */
function hashing(): { stream: Transform; digest: () => string; size: () => number } {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, digest: () => `sha256:${hash.digest('hex')}`, size: () => size };
}

/**
 * Forces the gzip header (RFC 1952 §2.3) to mtime 0 and OS 3 (Unix): node's zlib already writes mtime 0, but its
 * OS byte depends on the platform zlib was built for. The header has no checksum of its own (no FHCRC).
 */
function fixGzipHeader(): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (seen < 10) {
        const c = Buffer.from(chunk);
        for (let i = 0; i < c.length && seen + i < 10; i++) {
          const pos = seen + i;
          if (pos >= 4 && pos <= 7) c[i] = 0;
          if (pos === 9) c[i] = 3;
        }
        seen += chunk.length;
        cb(null, c);
        return;
      }
      cb(null, chunk);
    },
  });
}

async function storeBlob(layoutDir: string, data: Buffer): Promise<BuiltBlob> {
  const digest = digestOf(data);
  const path = join(layoutDir, 'blobs', 'sha256', digest.slice(7));
  await writeFile(path, data);
  return { mediaType: '', digest, size: data.length, path };
}

/** The image config (image-spec config.md); keys are written in a fixed order so the bytes are stable. */
export function imageConfig(options: BuildOptions, diffIds: string[], created: string): Buffer {
  const config: Record<string, unknown> = {};
  if (options.user) config.User = options.user;
  if (options.env?.length) config.Env = options.env;
  if (options.entrypoint?.length) config.Entrypoint = options.entrypoint;
  if (options.cmd?.length) config.Cmd = options.cmd;
  if (options.workdir) config.WorkingDir = options.workdir;
  const labels = Object.entries(options.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (labels.length) config.Labels = Object.fromEntries(labels);
  return Buffer.from(
    JSON.stringify({
      created,
      architecture: options.architecture ?? 'amd64',
      os: options.os ?? 'linux',
      ...(options.variant ? { variant: options.variant } : {}),
      config,
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: [{ created, created_by: 'sigil image build' }],
    }),
  );
}

function checkOptions(options: BuildOptions): void {
  for (const e of options.env ?? []) {
    if (!/^[^=]+=/.test(e)) throw new Error(`--env "${e}": expected KEY=VALUE`);
  }
  const epoch = options.sourceDateEpoch ?? 0;
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0o77777777777) {
    throw new Error(`source date epoch ${epoch}: expected a whole number of seconds ≥ 0`);
  }
  if (options.workdir && !options.workdir.startsWith('/')) {
    throw new Error(`--workdir "${options.workdir}": must be an absolute path`);
  }
}

/** Builds the image from `dir` into an OCI layout and returns its manifest and blobs. */
export async function buildImage(dir: string, options: BuildOptions = {}): Promise<BuiltImage> {
  checkOptions(options);
  const epoch = options.sourceDateEpoch ?? 0;
  const created = new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
  const entries = await walkDirectory(dir);
  const layoutDir = options.ociLayout ?? (await mkdtemp(join(tmpdir(), 'sigil-image-')));
  const blobDir = join(layoutDir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });

  // Layer: tar → (hash = diff_id) → gzip → (hash = digest) → temp file, renamed to its digest.
  const tmp = join(blobDir, `.tmp-layer-${process.pid}-${Date.now()}`);
  const tarHash = hashing();
  const gzHash = hashing();
  try {
    await pipeline(
      tarStream(entries, epoch),
      tarHash.stream,
      createGzip({ level: zlibConstants.Z_BEST_COMPRESSION }),
      fixGzipHeader(),
      gzHash.stream,
      createWriteStream(tmp),
    );
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const layerDigest = gzHash.digest();
  const layerPath = join(blobDir, layerDigest.slice(7));
  await rename(tmp, layerPath);
  const layer = {
    mediaType: OCI_LAYER_TAR_GZIP,
    digest: layerDigest,
    size: gzHash.size(),
    path: layerPath,
    diffId: tarHash.digest(),
  };

  const configBlob = await storeBlob(layoutDir, imageConfig(options, [layer.diffId], created));
  const config = { ...configBlob, mediaType: OCI_CONFIG };
  const manifestJson: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
  };
  const manifest = Buffer.from(JSON.stringify(manifestJson));
  const manifestBlob = await storeBlob(layoutDir, manifest);
  await writeLayoutIndex(layoutDir, {
    mediaType: OCI_MANIFEST,
    digest: manifestBlob.digest,
    size: manifest.length,
    ...(options.refName ? { annotations: { 'org.opencontainers.image.ref.name': options.refName } } : {}),
  });
  const source = (b: BuiltBlob): BlobSource => ({
    digest: b.digest,
    size: b.size,
    open: () => createReadStream(b.path),
  });
  return {
    layoutDir,
    manifest,
    manifestDigest: manifestBlob.digest,
    config,
    layers: [layer],
    blobs: [source(layer), source(config)],
  };
}

/**
 * Writes `oci-layout` and adds `descriptor` to `index.json`, replacing an entry with the same ref name (or the
 * same digest when unnamed) so that rebuilding into the same layout does not pile up entries.
 */
async function writeLayoutIndex(layoutDir: string, descriptor: Descriptor): Promise<void> {
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  let manifests: Descriptor[] = [];
  try {
    const existing = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8'));
    if (Array.isArray(existing.manifests)) manifests = existing.manifests;
  } catch {
    // no index yet
  }
  const name = descriptor.annotations?.['org.opencontainers.image.ref.name'];
  manifests = manifests.filter((d) =>
    name ? d.annotations?.['org.opencontainers.image.ref.name'] !== name : d.digest !== descriptor.digest,
  );
  manifests.push(descriptor);
  await writeFile(
    join(layoutDir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }),
  );
}
