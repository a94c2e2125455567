// `sigil image build … -t REF` end to end against real peers: CNCF distribution (docker-registry) stores the
// image, our client pulls it back byte-identical, and skopeo (containers/image) inspects it and copies it to
// an OCI layout — independent proof that the image is valid.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, pushImage } from '../../src/image/index.js';
import { type ImageManifest, parseReference, RegistryClient } from '../../src/oci/index.js';
import { type DockerRegistry, startDockerRegistry } from '../oci/helpers/docker-registry.js';

const run = promisify(execFile);
let reg: DockerRegistry;
let work: string;

beforeAll(async () => {
  reg = await startDockerRegistry();
  work = await mkdtemp(join(tmpdir(), 'sigil-push-'));
  await mkdir(join(work, 'ctx', 'bin'), { recursive: true });
  await writeFile(join(work, 'ctx', 'bin', 'hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
  await writeFile(join(work, 'ctx', 'data.txt'), 'data\n');
});
afterAll(async () => {
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
});

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, ['--import', 'tsx', join(__dirname, 'helpers', 'run-cli.ts'), ...args], {
    env: { ...process.env, HOME: '/nonexistent', ...env },
  });
}

describe('sigil image build -t REF', () => {
  it('pushes a reproducible image that pulls back byte-identical and that skopeo reads and copies', async () => {
    const ref = `${reg.host}/demo/hello:1.0`;
    const layout = join(work, 'layout');
    const { stdout, stderr } = await cli([
      'image',
      'build',
      join(work, 'ctx'),
      '-t',
      ref,
      '--oci-layout',
      layout,
      '--entrypoint',
      '["/bin/hello"]',
      '--cmd',
      'one two',
      '--env',
      'A=1',
      '--env',
      'B=2',
      '--label',
      'org.opencontainers.image.source=https://example.com/repo',
      '--workdir',
      '/srv',
    ]);
    const m = /^(\S+)@(sha256:[a-f0-9]{64})\n$/.exec(stdout);
    expect(m, `stdout was ${JSON.stringify(stdout)}`).not.toBeNull();
    expect(m?.[1]).toBe(ref);
    const digest = m![2];
    expect(stderr).toMatch(/sha256:[a-f0-9]{12}… (\d+ B|\d+\.\d KiB)\/\1 done/);

    // Pull manifest and every blob back: byte-identical to what the build wrote into the layout.
    const client = new RegistryClient({ useAuthFiles: false });
    const pulled = await client.getManifest(parseReference(ref));
    expect(pulled.digest).toBe(digest);
    expect(pulled.bytes.equals(await readFile(join(layout, 'blobs', 'sha256', digest.slice(7))))).toBe(true);
    const manifest = pulled.json as ImageManifest;
    for (const d of [manifest.config, ...manifest.layers]) {
      const bytes = await client.getBlobBytes(parseReference(ref), d.digest, 1 << 24);
      expect(bytes.equals(await readFile(join(layout, 'blobs', 'sha256', d.digest.slice(7))))).toBe(true);
    }

    // Building again gives the same digest, and pushing it again finds every blob present.
    const again = await cli([
      'image',
      'build',
      join(work, 'ctx'),
      '-t',
      `${reg.host}/demo/hello:again`,
      '--entrypoint',
      '["/bin/hello"]',
      '--cmd',
      'one two',
      '--env',
      'A=1',
      '--env',
      'B=2',
      '--label',
      'org.opencontainers.image.source=https://example.com/repo',
      '--workdir',
      '/srv',
    ]);
    expect(again.stdout.trim()).toBe(`${reg.host}/demo/hello:again@${digest}`);

    // skopeo (containers/image) inspects it from the registry …
    const inspect = JSON.parse(
      (await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout,
    );
    expect(inspect).toMatchObject({
      Digest: digest,
      Architecture: 'amd64',
      Os: 'linux',
      Labels: { 'org.opencontainers.image.source': 'https://example.com/repo' },
      Env: ['A=1', 'B=2'],
    });
    const config = JSON.parse(
      (await run('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${ref}`])).stdout,
    );
    expect(config.config).toMatchObject({
      Entrypoint: ['/bin/hello'],
      Cmd: ['one', 'two'],
      WorkingDir: '/srv',
    });

    // … copies it to an OCI layout unchanged (same manifest digest) …
    const copied = join(work, 'skopeo-copy');
    await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${copied}:copied`]);
    const index = JSON.parse(await readFile(join(copied, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(digest);

    // … and reads our own layout, pushing it to the registry with the same digest.
    await run('skopeo', [
      'copy',
      '--dest-tls-verify=false',
      `oci:${layout}:1.0`,
      `docker://${reg.host}/demo/from-layout:1.0`,
    ]);
    expect((await client.resolve(parseReference(`${reg.host}/demo/from-layout:1.0`))).digest).toBe(digest);
  });

  it('pushes large layers in chunks with per-blob progress, then mounts them into another repository', async () => {
    const dir = join(work, 'big');
    await mkdir(dir);
    await writeFile(join(dir, 'random.bin'), randomBytes(3 * 1024 * 1024)); // incompressible
    const image = await buildImage(dir, { ociLayout: join(work, 'big-layout') });
    const client = new RegistryClient({ useAuthFiles: false, chunkSize: 1024 * 1024 });
    const events: { digest: string; sent: number; total: number }[] = [];
    const ref = parseReference(`${reg.host}/demo/big:1`);
    const result = await pushImage(client, image, ref, { onProgress: (p) => events.push(p) });
    expect(result.reference).toBe(`${reg.host}/demo/big:1@${image.manifestDigest}`);
    const layer = image.layers[0];
    const layerEvents = events.filter((e) => e.digest === layer.digest).map((e) => e.sent);
    expect(layerEvents.slice(0, 3)).toEqual([1024 * 1024, 2 * 1024 * 1024, 3 * 1024 * 1024]);
    expect(layerEvents.at(-1)).toBe(layer.size);
    expect(result.blobs).toEqual([
      { digest: layer.digest, outcome: 'uploaded' },
      { digest: image.config.digest, outcome: 'uploaded' },
    ]);
    const copy = await pushImage(client, image, parseReference(`${reg.host}/demo/big-copy:1`), {
      mountFrom: 'demo/big',
    });
    expect(copy.blobs.map((b) => b.outcome)).toEqual(['mounted', 'mounted']);
    expect(copy.digest).toBe(result.digest);
  });

  it('fails clearly on a bad reference, a missing directory, or nothing to do', async () => {
    await expect(cli(['image', 'build', join(work, 'ctx'), '-t', 'NoHost'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/invalid image reference "NoHost": bad repository component "NoHost"/),
    });
    await expect(cli(['image', 'build', join(work, 'nope'), '-t', `${reg.host}/x:1`])).rejects.toMatchObject({
      stderr: expect.stringMatching(/is not a directory/),
    });
    await expect(cli(['image', 'build', join(work, 'ctx')])).rejects.toMatchObject({
      stderr: expect.stringMatching(/nothing to do/),
    });
  });
});
