// `sigil initialize --mirror URL`: trust from a TUF repository (sigil's /tuf/, an exported copy, or Sigstore's
// own), as `cosign initialize` takes it. tuf-js runs the client workflow (tuf-spec §5: root chain, timestamp,
// snapshot, targets, each signed, fresh and not rolled back) and checks the downloaded targets' length and
// hashes; what it hands back is stored like any other trust config. The first root is the one thing trusted on
// faith: from a file, or fetched and pinned by --root-checksum (plain http only to loopback or with --insecure).
// Later runs without --root start from the root this mirror's last update left in the cache.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Fetcher } from 'tuf-js';
import {
  parseMetadata,
  SIGSTORE_SIGNING_CONFIG_TARGET,
  SIGSTORE_TRUSTED_ROOT_TARGET,
} from '../formats/index.js';
import { request } from '../net/index.js';
import { checkTransport, type FetchedTrust, trustDir } from './store.js';

/** How long one metadata or target download may take. */
const FETCH_TIMEOUT_MS = 30_000;
/**
 * Where the TUF client keeps each mirror's metadata, under the trust dir; not `tuf`, which is the repository's own
 * directory when the trust dir is a `sigil up` data dir (what `. .sigil/env` sets).
 */
export const TUF_CACHE_DIR = 'tuf-client';

export interface MirrorOptions {
  /** The repository's base URL (metadata there, targets under /targets), a file:// URL or a directory. */
  mirror: string;
  /** The first trusted root.json, a file or URL; absent: the root cached by an earlier run for this mirror. */
  root?: string;
  /** SHA-256 (hex) the root's bytes must have. */
  rootChecksum?: string;
  /** Allow fetching the root over plain http from a non-loopback host without a checksum. */
  insecure?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface MirrorTrust extends FetchedTrust {
  /** The root version the update ended on (above the first one after a rotation). */
  rootVersion: number;
  /** The client's metadata cache for this mirror. */
  cacheDir: string;
}

/** A directory path becomes a file:// URL; URLs lose a trailing slash. */
export function mirrorUrl(mirror: string): string {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(mirror) ? new URL(mirror) : pathToFileURL(mirror);
  if (!['http:', 'https:', 'file:'].includes(url.protocol))
    throw new Error(`unsupported mirror URL ${mirror}`);
  return url.toString().replace(/\/+$/, '');
}

/** One cache directory per mirror, named readably after it. */
export function mirrorCacheName(mirror: string): string {
  const u = new URL(mirror);
  return `${u.protocol.replace(':', '')}-${u.host}${u.pathname}`
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 200);
}

async function loadRoot(root: string, o: MirrorOptions): Promise<Buffer> {
  let bytes: Buffer;
  if (/^https?:\/\//i.test(root)) {
    const pinned = o.rootChecksum !== undefined;
    checkTransport(root, { insecure: o.insecure || pinned, what: 'the TUF root' });
    const res = await request(root, { timeoutMs: FETCH_TIMEOUT_MS });
    checkTransport(res.url, { insecure: o.insecure || pinned, what: 'the TUF root (after a redirect)' });
    bytes = await res.buffer();
    if (!res.ok) throw new Error(`${root} answered ${res.status}`);
  } else {
    bytes = await readFile(root.startsWith('file:') ? fileURLToPath(root) : root);
  }
  if (o.rootChecksum !== undefined) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== o.rootChecksum.toLowerCase())
      throw new Error(`${root} has SHA-256 ${actual}, not the --root-checksum ${o.rootChecksum}`);
  }
  parseMetadata(bytes, 'root');
  return bytes;
}

/**
 * Downloads for tuf-js through sigil's HTTP client, and from the file system for file:// mirrors. A missing file
 * must look like HTTP 404: that is how the client learns there is no newer root (§5.3.3).
 */
async function mirrorFetcher(): Promise<Fetcher> {
  const { BaseFetcher } = await import('tuf-js');
  const { DownloadHTTPError } = await import('tuf-js/dist/error.js');
  class MirrorFetcher extends BaseFetcher {
    override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
      if (url.startsWith('file:')) {
        try {
          return new Blob([await readFile(fileURLToPath(url))]).stream() as ReadableStream<
            Uint8Array<ArrayBuffer>
          >;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DownloadHTTPError('not found', 404);
          throw err;
        }
      }
      const res = await request(url, { timeoutMs: FETCH_TIMEOUT_MS });
      if (!res.ok) {
        res.discard();
        throw new DownloadHTTPError(`${url} answered ${res.status}`, res.status);
      }
      return Readable.toWeb(res.body) as ReadableStream<Uint8Array<ArrayBuffer>>;
    }
  }
  return new MirrorFetcher();
}

/** Updates the client's view of the mirror and returns the verified trusted_root.json and signing config. */
export async function fetchTrustFromMirror(o: MirrorOptions): Promise<MirrorTrust> {
  const mirror = mirrorUrl(o.mirror);
  const cacheDir = join(trustDir(o.env), TUF_CACHE_DIR, mirrorCacheName(mirror));
  const targetDir = join(cacheDir, 'targets');
  if (o.root !== undefined) {
    // A root given on the command line starts the client afresh, as `cosign initialize --root` does.
    const rootBytes = await loadRoot(o.root, o);
    await rm(cacheDir, { recursive: true, force: true });
    await mkdir(targetDir, { recursive: true });
    await writeFile(join(cacheDir, 'root.json'), rootBytes);
  } else {
    try {
      await readFile(join(cacheDir, 'root.json'));
    } catch {
      throw new Error(`no trusted TUF root for ${mirror} yet: pass --root FILE (the repository's root.json)`);
    }
    await mkdir(targetDir, { recursive: true });
  }
  const { Updater } = await import('tuf-js');
  const updater = new Updater({
    metadataDir: cacheDir,
    metadataBaseUrl: mirror,
    targetDir,
    targetBaseUrl: `${mirror}/targets`,
    fetcher: await mirrorFetcher(),
    config: { fetchTimeout: FETCH_TIMEOUT_MS },
  });
  try {
    await updater.refresh();
  } catch (err) {
    throw new Error(`TUF update from ${mirror} failed: ${(err as Error).message}`, { cause: err });
  }
  const target = async (name: string): Promise<unknown | undefined> => {
    const info = await updater.getTargetInfo(name);
    if (!info) return undefined;
    try {
      const path = (await updater.findCachedTarget(info)) ?? (await updater.downloadTarget(info));
      return JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new Error(`TUF target ${name} from ${mirror}: ${(err as Error).message}`, { cause: err });
    }
  };
  const trustedRoot = await target(SIGSTORE_TRUSTED_ROOT_TARGET);
  if (trustedRoot === undefined) throw new Error(`${mirror} publishes no ${SIGSTORE_TRUSTED_ROOT_TARGET}`);
  const signingConfig = await target(SIGSTORE_SIGNING_CONFIG_TARGET);
  const rootVersion = parseMetadata(await readFile(join(cacheDir, 'root.json')), 'root').signed.version;
  const sources = [`${mirror} (${SIGSTORE_TRUSTED_ROOT_TARGET})`];
  if (signingConfig !== undefined) sources.push(`${mirror} (${SIGSTORE_SIGNING_CONFIG_TARGET})`);
  return { trustedRoot, signingConfig, sources, rootVersion, cacheDir };
}
