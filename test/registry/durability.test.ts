// Acknowledged data survives kill -9: a `sigil serve registry` child process is killed without warning after a
// push is acknowledged, restarted on the same data dir, and everything is still there. An upload session
// interrupted by the crash resumes (its hash state is rebuilt from the partial file).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { json, pushImage, sha256 } from './helpers.js';

const CHILD = join(import.meta.dirname, 'serve-child.ts');

async function serve(dataDir: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CHILD,
      'serve',
      'registry',
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--anonymous-push',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = err.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  return { proc, url };
}

async function kill9(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

describe('durability', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('keeps acknowledged manifests, tags and blobs across kill -9, and resumes an interrupted upload', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sigil-registry-crash-'));
    dirs.push(dataDir);
    let { proc, url } = await serve(dataDir);
    const img = await pushImage(url, 'crash/app', 'v1');
    const data = randomBytes(300_000);
    const post = await fetch(`${url}/v2/crash/app/blobs/uploads/`, { method: 'POST' });
    const location = post.headers.get('location')!;
    const patch = await fetch(`${url}${location}`, {
      method: 'PATCH',
      body: data.subarray(0, 200_000),
      headers: { 'content-range': '0-199999' },
    });
    expect(patch.status).toBe(202);
    await kill9(proc);

    ({ proc, url } = await serve(dataDir));
    try {
      const m = await fetch(`${url}/v2/crash/app/manifests/v1`);
      expect(m.status).toBe(200);
      expect(Buffer.from(await m.arrayBuffer()).equals(img.manifest)).toBe(true);
      const layer = await fetch(`${url}/v2/crash/app/blobs/${img.layerDigest}`);
      expect(sha256(Buffer.from(await layer.arrayBuffer()))).toBe(img.layerDigest);
      expect((await json(await fetch(`${url}/v2/crash/app/tags/list`))).tags).toEqual(['v1']);
      // The upload session outlived the crash.
      const status = await fetch(`${url}${location}`);
      expect(status.status).toBe(204);
      expect(status.headers.get('range')).toBe('0-199999');
      const put = await fetch(`${url}${location}?digest=${sha256(data)}`, {
        method: 'PUT',
        body: data.subarray(200_000),
        headers: { 'content-range': '200000-299999' },
      });
      expect(put.status).toBe(201);
    } finally {
      await kill9(proc);
    }
  });
});
