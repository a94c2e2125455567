// `buildImage`: reproducible OCI images from a directory. Same input → same digest; any change to content,
// mode, names or options → another digest; the tar is readable by GNU tar (a real peer), PAX names included.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, paxRecord } from '../../src/image/index.js';

let work: string;
let n = 0;
const LONG_DIR = `${'deep-directory-name-'.repeat(4)}end`;
const LONG_NAME = `${'a-rather-long-file-name-'.repeat(4)}.txt`;
const UNICODE = 'grüße-✓.txt';

async function fixture(): Promise<string> {
  const dir = join(work, `src-${n++}`);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, LONG_DIR), { recursive: true });
  await writeFile(join(dir, 'hello.txt'), 'hello\n');
  await writeFile(join(dir, 'bin', 'run'), '#!/bin/sh\necho run\n');
  await chmod(join(dir, 'bin', 'run'), 0o755);
  await writeFile(join(dir, LONG_DIR, LONG_NAME), 'long\n');
  await writeFile(join(dir, UNICODE), 'unicode\n');
  await symlink('hello.txt', join(dir, 'link'));
  return dir;
}

async function build(dir: string, options = {}) {
  return buildImage(dir, { ociLayout: join(work, `layout-${n++}`), ...options });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sigil-build-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('buildImage', () => {
  it('gives the same digest for the same input, whatever the files’ mtimes and the layout dir', async () => {
    const a = await fixture();
    const b = await fixture();
    await utimes(join(b, 'hello.txt'), new Date('2001-02-03'), new Date('2001-02-03'));
    const first = await build(a);
    const second = await build(b);
    expect(second.manifestDigest).toBe(first.manifestDigest);
    expect(second.manifest.equals(first.manifest)).toBe(true);
    expect(second.layers[0].digest).toBe(first.layers[0].digest);
  });

  it('changes the digest when content, mode, entries or options change', async () => {
    const base = await build(await fixture());
    const content = await fixture();
    await writeFile(join(content, 'hello.txt'), 'hellO\n');
    const mode = await fixture();
    await chmod(join(mode, 'hello.txt'), 0o755);
    const added = await fixture();
    await mkdir(join(added, 'empty'));
    const digests = [
      base.manifestDigest,
      (await build(content)).manifestDigest,
      (await build(mode)).manifestDigest,
      (await build(added)).manifestDigest,
      (await build(await fixture(), { cmd: ['/bin/run'] })).manifestDigest,
      (await build(await fixture(), { sourceDateEpoch: 1700000000 })).manifestDigest,
    ];
    expect(new Set(digests).size).toBe(digests.length);
  });

  it('writes a layer GNU tar reads, with PAX names, modes, symlinks, owner 0 and the fixed mtime', async () => {
    const image = await build(await fixture(), { sourceDateEpoch: 1700000000 });
    const listing = execFileSync('tar', ['--numeric-owner', '-tvzf', image.layers[0].path], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' }, // tar -v prints local time
    });
    const lines = listing.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).slice(5).join(' '))).toEqual([
      'bin/',
      'bin/run',
      `${LONG_DIR}/`,
      `${LONG_DIR}/${LONG_NAME}`,
      'grüße-✓.txt',
      'hello.txt',
      'link -> hello.txt',
    ]);
    expect(lines[1]).toMatch(/^-rwxr-xr-x 0\/0 +19 2023-11-14 22:13 bin\/run$/);
    expect(lines[5]).toMatch(/^-rw-r--r-- 0\/0 +6 2023-11-14 22:13 hello\.txt$/);
    const out = join(work, `extract-${n++}`);
    await mkdir(out);
    execFileSync('tar', ['-xzf', image.layers[0].path, '-C', out]);
    expect(await readFile(join(out, LONG_DIR, LONG_NAME), 'utf8')).toBe('long\n');
    expect(await readFile(join(out, UNICODE), 'utf8')).toBe('unicode\n');
  });

  it('records diff_id = sha256 of the uncompressed tar, and a gzip header with mtime 0 and OS 3', async () => {
    const image = await build(await fixture());
    const gz = await readFile(image.layers[0].path);
    expect([...gz.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect(gz[9]).toBe(3);
    expect(image.layers[0].diffId).toBe(
      `sha256:${createHash('sha256').update(gunzipSync(gz)).digest('hex')}`,
    );
    expect(image.layers[0].digest).toBe(`sha256:${createHash('sha256').update(gz).digest('hex')}`);
    const config = JSON.parse(await readFile(image.config.path, 'utf8'));
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [image.layers[0].diffId] });
  });

  it('puts the options into the image config and the manifest into an OCI layout index', async () => {
    const image = await build(await fixture(), {
      entrypoint: ['/bin/run'],
      cmd: ['--flag'],
      env: ['A=1', 'PATH=/bin'],
      workdir: '/srv',
      user: '1000',
      labels: { 'z.label': 'z', 'a.label': 'a' },
      architecture: 'arm64',
      variant: 'v8',
      refName: 'v1',
    });
    const config = JSON.parse(await readFile(image.config.path, 'utf8'));
    expect(config).toMatchObject({
      created: '1970-01-01T00:00:00Z',
      architecture: 'arm64',
      variant: 'v8',
      os: 'linux',
      config: {
        User: '1000',
        Env: ['A=1', 'PATH=/bin'],
        Entrypoint: ['/bin/run'],
        Cmd: ['--flag'],
        WorkingDir: '/srv',
        Labels: { 'a.label': 'a', 'z.label': 'z' },
      },
    });
    expect(Object.keys(config.config.Labels)).toEqual(['a.label', 'z.label']);
    const index = JSON.parse(await readFile(join(image.layoutDir, 'index.json'), 'utf8'));
    expect(index.manifests).toEqual([
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: image.manifestDigest,
        size: image.manifest.length,
        annotations: { 'org.opencontainers.image.ref.name': 'v1' },
      },
    ]);
    expect(JSON.parse(await readFile(join(image.layoutDir, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
  });

  it('rejects what it cannot pack or record, saying why', async () => {
    const dir = await fixture();
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    await expect(build(dir)).rejects.toThrow(/only regular files, directories and symlinks/);
    await expect(build(join(work, 'missing'))).rejects.toThrow(/is not a directory/);
    await expect(build(await fixture(), { env: ['NOEQUALS'] })).rejects.toThrow(/expected KEY=VALUE/);
    await expect(build(await fixture(), { workdir: 'relative' })).rejects.toThrow(/absolute/);
  });
});

describe('paxRecord', () => {
  it('counts its own length, also across a digit boundary', () => {
    for (let len = 80; len < 120; len++) {
      const record = paxRecord('path', 'x'.repeat(len));
      expect(Number.parseInt(record, 10)).toBe(Buffer.byteLength(record));
    }
    const utf8 = paxRecord('path', 'ü'.repeat(50));
    expect(Number.parseInt(utf8, 10)).toBe(Buffer.byteLength(utf8));
  });
});
