// The repository's files on disk, DATA/tuf/repository/, laid out exactly as served and exported (§6.2 consistent
// snapshots): N.root.json for every root version, N.targets.json and N.snapshot.json, the unversioned
// timestamp.json, targets/<sha256>.<name>, and root.json, a copy of the newest root for bootstrapping clients.
// Versioned files are written once and never replaced; timestamp.json is replaced atomically and written last,
// so a reader always finds everything the timestamp it read leads to. One writer at a time: a lock file.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../crypto/index.js';

export const REPOSITORY_DIR = 'repository';
export const TARGETS_DIR = 'targets';
const LOCK_FILE = 'lock';

/** How long a writer waits for another (the server's refresh, a CLI command) to finish. */
const LOCK_WAIT_MS = 15_000;
const LOCK_POLL_MS = 25;

/** The paths the repository publishes, relative to its root; anything else is not served. */
export const PUBLISHED_PATH =
  /^(?:(?:[1-9]\d{0,9}\.(?:root|snapshot|targets))|root|timestamp)\.json$|^targets\/[0-9a-f]{64}\.[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

export async function readPublished(repoDir: string, rel: string): Promise<Buffer | undefined> {
  if (!PUBLISHED_PATH.test(rel)) return undefined;
  try {
    return await readFile(join(repoDir, rel));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a versioned file that must never change once published; the same bytes again are fine. */
export async function publishOnce(repoDir: string, rel: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(join(repoDir, rel), bytes, { exclusive: true });
  const onDisk = await readFile(join(repoDir, rel));
  if (!onDisk.equals(bytes)) throw new Error(`${rel} is already published with other contents`);
}

export async function publishReplace(repoDir: string, rel: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(join(repoDir, rel), bytes);
}

/** The newest version of each versioned role found on disk (0 when none), published or orphaned by a crash. */
export async function highestVersions(
  repoDir: string,
): Promise<{ root: number; snapshot: number; targets: number }> {
  const out = { root: 0, snapshot: 0, targets: 0 };
  const names = await readdir(repoDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  for (const name of names) {
    const m = /^(\d+)\.(root|snapshot|targets)\.json$/.exec(name);
    if (m) {
      const role = m[2] as keyof typeof out;
      out[role] = Math.max(out[role], Number(m[1]));
    }
  }
  return out;
}

/** Every published file, versioned ones and targets first, then root.json, then timestamp.json (copy order). */
export async function listPublished(repoDir: string): Promise<string[]> {
  const top = (await readdir(repoDir)).filter((n) => PUBLISHED_PATH.test(n));
  let targets: string[] = [];
  try {
    targets = (await readdir(join(repoDir, TARGETS_DIR)))
      .map((n) => `${TARGETS_DIR}/${n}`)
      .filter((n) => PUBLISHED_PATH.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const rank = (n: string) => (n === 'timestamp.json' ? 2 : n === 'root.json' ? 1 : 0);
  return [...targets.sort(), ...top.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` holding DATA/tuf/lock (created exclusively, holding the owner's pid). A lock left by a process that
 * no longer exists is taken over; a live owner is waited for, up to LOCK_WAIT_MS.
 */
export async function withLock<T>(tufDir: string, fn: () => Promise<T>): Promise<T> {
  const path = join(tufDir, LOCK_FILE);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(await readFile(path, 'utf8').catch(() => ''));
    if (owner > 0 && !alive(owner)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${path} is held by process ${owner || '?'}; try again`);
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
