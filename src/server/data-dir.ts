// The data dir's permissions (#15.1, docs/design/threat-model.md): it holds the CA, log, issuer and registry keys
// and the policy that says who may get which certificate (ca-config.json, oidc/runners.json), so a local user who
// can write to it can mint certificates for any identity. Before any service opens it, `sigil up` / `sigil serve`
// set the process umask so everything sigil creates is private to its user (directories 0700, files 0600: keys,
// databases and blobs alike), and refuse to start on a data dir whose files others could change or read secrets
// from, naming the path and the command that fixes it.
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Nothing sigil creates is readable or writable by group or others. */
export const PRIVATE_UMASK = 0o077;

/** Where the bulk content lives (blobs, upload spools, tiles): private by the umask, too many files to walk. */
const BULK_DIRS = new Set(['registry/blobs', 'registry/uploads', 'log/tiles', 'ct/tiles']);

/** Files whose contents are secret: private keys, passwords and their hashes, request-secret hashes. */
export function holdsSecret(relPath: string): boolean {
  const base = relPath.split('/').pop() ?? '';
  return (
    /key\.pem$|-key$|^token-key$/.test(base) ||
    [
      'registry-login.json',
      'registry-auth.json',
      'registry/users.json',
      'oidc/runners.json',
      'oidc/runs.json',
    ].includes(relPath) ||
    relPath.startsWith('tuf/keys/')
  );
}

export class DataDirError extends Error {}

/** The problems with one path, each a sentence with its fix; empty when it is fine. */
export function permissionProblems(
  path: string,
  relPath: string,
  st: { mode: number; uid: number; isDirectory(): boolean; isSymbolicLink(): boolean },
  uid: number,
): string[] {
  const out: string[] = [];
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  if (st.uid !== uid)
    out.push(
      `${path} is owned by uid ${st.uid}, not by the user running sigil (uid ${uid}): chown ${uid} ${path}`,
    );
  if (st.mode & 0o022)
    out.push(
      `${path} is writable by group or others (mode ${mode}): chmod go-w ${st.isDirectory() ? '-R ' : ''}${path}`,
    );
  else if (!st.isDirectory() && st.mode & 0o044 && holdsSecret(relPath))
    out.push(`${path} holds a secret and is readable by group or others (mode ${mode}): chmod 600 ${path}`);
  return out;
}

/**
 * Sets the umask, creates the data dir (0700) if needed, and checks what is already there; throws DataDirError
 * listing every problem. Symbolic links are judged by themselves, not followed: a link placed inside a private
 * directory was placed by its owner.
 */
export async function prepareDataDir(dataDir: string): Promise<void> {
  process.umask(PRIVATE_UMASK);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.() ?? 0;
  const problems: string[] = [];
  const visit = async (path: string): Promise<void> => {
    const rel = relative(dataDir, path);
    const st = await lstat(path);
    if (!st.isSymbolicLink()) problems.push(...permissionProblems(path, rel, st, uid));
    if (!st.isDirectory() || BULK_DIRS.has(rel)) return;
    for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(dataDir);
  if (problems.length > 0)
    throw new DataDirError(
      `refusing to start: the data dir must be private to the user running sigil\n  ${problems.join('\n  ')}`,
    );
}
