// The data dir is private (#15.1): after `prepareDataDir`, everything the whole stack creates (keys, policy,
// databases, blobs, trust files) has no group or other permission bits, and a data dir that another user could
// change, or read secrets from, is refused before any service opens it, naming the path and the fix.
import { chmod, chown, lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDataDir, startStack } from '../../src/server/index.js';

let dataDir: string;

async function walk(dir: string): Promise<string[]> {
  const out = [dir];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(...(e.isDirectory() ? await walk(p) : [p]));
  }
  return out;
}

beforeAll(async () => {
  dataDir = join(await mkdtemp(join(tmpdir(), 'sigil-datadir-')), 'data');
  await prepareDataDir(dataDir);
  const { server } = await startStack({ dataDir, port: 0, logLevel: 'silent' });
  await server.close();
});
afterAll(async () => {
  await rm(join(dataDir, '..'), { recursive: true, force: true });
});

describe('data dir permissions', () => {
  it('everything sigil up creates is private to its user (directories 0700, files 0600)', async () => {
    const paths = await walk(dataDir);
    expect(paths.length).toBeGreaterThan(15);
    const loose = [];
    for (const p of paths) {
      const st = await lstat(p);
      // A symbolic link (bin/sigil, the command the env file puts on PATH) has no permissions of its own.
      if (st.isSymbolicLink()) continue;
      if (st.mode & 0o077) loose.push(`${p} ${(st.mode & 0o777).toString(8)}`);
    }
    expect(loose).toEqual([]);
    expect((await lstat(dataDir)).mode & 0o777).toBe(0o700);
    // A started stack is accepted as it left its data dir.
    await expect(prepareDataDir(dataDir)).resolves.toBeUndefined();
  });

  it('refuses policy others can write, naming the path and the fix', async () => {
    const runners = join(dataDir, 'oidc', 'runners.json');
    await writeFile(runners, '{"runners": []}\n', { mode: 0o600 });
    await chmod(runners, 0o664);
    await expect(prepareDataDir(dataDir)).rejects.toThrow(
      `${runners} is writable by group or others (mode 0664): chmod go-w ${runners}`,
    );
    await chmod(runners, 0o600);
    const caConfig = join(dataDir, 'ca-config.json');
    await chmod(caConfig, 0o646);
    await expect(prepareDataDir(dataDir)).rejects.toThrow(/ca-config\.json is writable by group or others/);
    await chmod(caConfig, 0o600);
  });

  it('refuses a data dir others can write to', async () => {
    await chmod(dataDir, 0o777);
    await expect(prepareDataDir(dataDir)).rejects.toThrow(`chmod go-w -R ${dataDir}`);
    await chmod(dataDir, 0o700);
  });

  it('refuses a secret others can read, and reading is fine for public files', async () => {
    const key = join(dataDir, 'ca', 'root-key.pem');
    await chmod(key, 0o644);
    await expect(prepareDataDir(dataDir)).rejects.toThrow(`${key} holds a secret and is readable`);
    await chmod(key, 0o600);
    await chmod(join(dataDir, 'trusted_root.json'), 0o644);
    await expect(prepareDataDir(dataDir)).resolves.toBeUndefined();
  });

  it.skipIf(process.getuid?.() !== 0)(
    'refuses files owned by another user (as root: chown to nobody)',
    async () => {
      const runners = join(dataDir, 'oidc', 'runners.json');
      await chown(runners, 65534, 65534);
      await expect(prepareDataDir(dataDir)).rejects.toThrow(/runners\.json is owned by uid 65534/);
      await chown(runners, 0, 0);
      await expect(prepareDataDir(dataDir)).resolves.toBeUndefined();
    },
  );
});
