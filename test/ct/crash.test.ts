// Acknowledged data survives kill -9: every certificate the CA handed out has its precertificate entry in the
// CT log after the server process is killed without warning and started again on the same data dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { devToken, requestCert } from '../ca/helpers.js';

const root = join(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

async function serve(dataDir: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'bin/sigil.js'), 'serve', 'ca', '--data-dir', dataDir, '--port', '0'],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(proc);
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`sigil serve ca exited ${code}: ${err}`)));
  });
  return { url, proc };
}

it('keeps every acknowledged precertificate entry across kill -9', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-ct-crash-'));
  try {
    await writeFile(join(dataDir, 'ca-config.json'), JSON.stringify({ issuers: [], oidcDevMode: true }));
    const first = await serve(dataDir);
    const token = await devToken(first.url);
    let acknowledged = 0;
    let killed = false;
    // Keep requests in flight while the process dies: only the answered ones count as acknowledged.
    const worker = async () => {
      while (!killed) {
        try {
          const res = await requestCert(first.url, token);
          if (res.status === 200) acknowledged++;
          if (acknowledged >= 20 && !killed) {
            killed = true;
            first.proc.kill('SIGKILL');
          }
        } catch {
          return; // connection cut by the kill
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(acknowledged).toBeGreaterThan(0);

    const second = await serve(dataDir);
    const res = await fetch(`${second.url}/ct/v1/get-entries?start=0&end=255`);
    const { entries } = (await res.json()) as { entries: unknown[] };
    expect(entries.length).toBeGreaterThanOrEqual(acknowledged);
    // Entries queued before the kill but not yet in the tree are merged after the restart.
    let size = 0;
    for (let i = 0; i < 200 && size < entries.length; i++) {
      size = ((await (await fetch(`${second.url}/ct/v1/get-sth`)).json()) as { tree_size: number }).tree_size;
      if (size < entries.length) await new Promise((r) => setTimeout(r, 25));
    }
    expect(size).toBe(entries.length);
    second.proc.kill('SIGTERM');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
