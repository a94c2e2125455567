// Shared by the TUF tests: doctored mirrors. A doctored mirror is an exported copy of a sigil TUF repository with
// one file changed (a tampered target, an edited targets.json, an expired or an older timestamp), served as is by
// a small static file server on loopback, so that a real client (tuf-js, cosign, `sigil initialize`) can be shown
// to refuse it. Also: a tuf-js client bootstrapped from a root file, as the tests' reference TUF client.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { Updater } from 'tuf-js';
import { openTufRepository } from '../../src/tuf/index.js';

/** Every directory these helpers made, for removeTemporaryDirs. */
const made: string[] = [];
async function scratch(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export async function removeTemporaryDirs(): Promise<void> {
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the files under `dir` by path (GET only; anything else or missing is 404). */
export async function serveDirectory(dir: string): Promise<StaticServer> {
  const server = createServer(async (req, res) => {
    const rel = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(
      /^\/+/,
      '',
    );
    try {
      if (rel.startsWith('..')) throw new Error('outside');
      const bytes = await readFile(join(dir, rel));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length }).end(bytes);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An exported copy of the data dir's repository in a new directory. */
export async function exportCopy(dataDir: string): Promise<string> {
  const dest = await scratch('sigil-tuf-copy-');
  await (await openTufRepository(dataDir, { create: false })).exportTo(dest);
  return dest;
}

/** The copy's hash-prefixed file for target `name` as the newest targets metadata lists it. */
export async function targetFile(copy: string, name: string): Promise<string> {
  const versions = (await readdir(copy))
    .map((f) => /^(\d+)\.targets\.json$/.exec(f)?.[1])
    .filter((v) => v !== undefined)
    .map(Number);
  const targets = JSON.parse(await readFile(join(copy, `${Math.max(...versions)}.targets.json`), 'utf8'));
  return join(copy, 'targets', `${targets.signed.targets[name].hashes.sha256}.${name}`);
}

/** Changes one byte of a file, keeping its length (so the hash check, not the length check, must catch it). */
export async function flipByte(path: string, at = 10): Promise<void> {
  const bytes = await readFile(path);
  bytes[at] ^= 0x01;
  await writeFile(path, bytes);
}

export const sha256hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

export interface TufClient {
  updater: Updater;
  /** Its metadata cache: root.json and whatever the updates persisted. */
  dir: string;
  /** Downloads and verifies a target, returning its bytes. */
  target(name: string): Promise<Buffer>;
}

/**
 * A tuf-js client for `mirror` trusting `root` (bytes of a root.json), with its cache in `dir` (a new directory
 * unless given: pass a previous client's dir to continue from what it trusts).
 */
export async function tufClient(mirror: string, root?: Uint8Array, dir?: string): Promise<TufClient> {
  const cache = dir ?? (await scratch('sigil-tuf-client-'));
  await mkdir(join(cache, 'targets'), { recursive: true });
  if (root) await writeFile(join(cache, 'root.json'), root);
  const updater = new Updater({
    metadataDir: cache,
    metadataBaseUrl: mirror,
    targetDir: join(cache, 'targets'),
    targetBaseUrl: `${mirror}/targets`,
    config: { fetchRetry: 0 },
  });
  return {
    updater,
    dir: cache,
    async target(name: string) {
      const info = await updater.getTargetInfo(name);
      if (!info) throw new Error(`no target ${name}`);
      return readFile(await updater.downloadTarget(info, join(cache, 'targets', `${Date.now()}-${name}`)));
    },
  };
}
