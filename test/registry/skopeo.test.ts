// A real client end to end: skopeo copies a multi-layer OCI image (from an OCI layout built here with tar/gzip)
// into the registry through the bearer-token flow, back out to a new layout, and into a second repository
// (where it mounts the blobs across repositories); manifests and blobs stay byte-identical by digest.
// Skipped only when skopeo is not installed (CI installs it: .ci/run).
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, registryRoot } from '../../src/registry/index.js';
import type { Service } from '../../src/server/index.js';
import { startRegistry, type TestRegistry } from './helpers.js';

const run = promisify(execFile);

function hasSkopeo(): boolean {
  try {
    execFileSync('skopeo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const SKOPEO = hasSkopeo();
if (!SKOPEO)
  console.warn('skopeo is not installed: skipping the skopeo interop tests (apt-get install skopeo)');

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Layout {
  dir: string;
  manifest: Buffer;
  blobs: Map<string, Buffer>;
}

/** Writes an OCI image layout (image-spec image-layout.md) with `layers` gzipped tar layers, tagged `ref`. */
async function buildLayout(dir: string, ref: string, layers: number): Promise<Layout> {
  const blobs = new Map<string, Buffer>();
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (data: Buffer) => {
    const hex = sha(data);
    blobs.set(`sha256:${hex}`, data);
    await writeFile(join(dir, 'blobs', 'sha256', hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const work = await mkdtemp(join(tmpdir(), 'sigil-layer-'));
  const layerDescs = [];
  const diffIds = [];
  for (let i = 0; i < layers; i++) {
    const content = join(work, `l${i}`);
    await mkdir(content);
    await writeFile(join(content, `file-${i}.txt`), `layer ${i}\n`.repeat(1000 * (i + 1)));
    const tgz = execFileSync('tar', ['-C', content, '-cz', '--owner=0', '--group=0', '--mtime=@0', '.']);
    diffIds.push(`sha256:${sha(gunzipSync(tgz))}`);
    layerDescs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await put(tgz)) });
  }
  await rm(work, { recursive: true, force: true });
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/true'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const configDesc = { mediaType: 'application/vnd.oci.image.config.v1+json', ...(await put(config)) };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: configDesc,
      layers: layerDescs,
    }),
  );
  const m = await put(manifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...m,
          annotations: { 'org.opencontainers.image.ref.name': ref },
        },
      ],
    }),
  );
  return { dir, manifest, blobs };
}

/** Records every registry request (method, path, status) so tests can see what skopeo actually did. */
function recorder(log: string[]): Service {
  return {
    name: 'recorder',
    async register(app) {
      app.addHook('onResponse', async (req, reply) => {
        log.push(
          `${req.method} ${req.url.split('?')[0]} ${reply.statusCode} ${req.url.includes('mount=') ? 'mount' : ''}`,
        );
      });
    },
    async close() {},
  };
}

describe.skipIf(!SKOPEO)('skopeo against the registry (token auth)', () => {
  let reg: TestRegistry;
  let work: string;
  let layout: Layout;
  const requests: string[] = [];
  let env: NodeJS.ProcessEnv;
  let host: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'sigil-skopeo-'));
    const dataDir = join(work, 'data');
    await mkdir(registryRoot(dataDir), { recursive: true });
    await addUser(registryRoot(dataDir), 'alice', 'correct horse battery');
    await addUser(registryRoot(dataDir), 'reader', 'only pulls please', [
      { repository: '*', actions: ['pull'] },
    ]);
    await writeFile(join(dataDir, 'registry', 'config.json'), JSON.stringify({ anonymousPull: false }));
    reg = await startRegistry({}, dataDir, [recorder(requests)]);
    host = new URL(reg.url).host;
    layout = await buildLayout(join(work, 'layout'), 'v1', 3);
    await writeFile(
      join(work, 'policy.json'),
      JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }),
    );
    // A private HOME and XDG dirs: no stray credentials or blob-info cache from the machine.
    await mkdir(join(work, 'home'), { recursive: true });
    env = {
      ...process.env,
      HOME: join(work, 'home'),
      XDG_RUNTIME_DIR: join(work, 'home'),
      XDG_CONFIG_HOME: join(work, 'home', '.config'),
    };
  });
  afterAll(async () => {
    await reg?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const skopeo = (args: string[]) =>
    run('skopeo', ['--policy', join(work, 'policy.json'), '--insecure-policy', ...args], {
      env,
      timeout: 60_000,
    });

  it('refuses a push without credentials, and with a pull-only user', async () => {
    await expect(
      skopeo(['copy', '--dest-tls-verify=false', `oci:${layout.dir}:v1`, `docker://${host}/team/app:v1`]),
    ).rejects.toThrow(/unauthorized|authentication required|401/i);
    await expect(
      skopeo([
        'copy',
        '--dest-tls-verify=false',
        '--dest-creds',
        'reader:only pulls please',
        `oci:${layout.dir}:v1`,
        `docker://${host}/team/app:v1`,
      ]),
    ).rejects.toThrow(/unauthorized|authentication required|invalid username or password|401/i);
    await expect(
      skopeo([
        'copy',
        '--dest-tls-verify=false',
        '--dest-creds',
        'alice:wrong password',
        `oci:${layout.dir}:v1`,
        `docker://${host}/team/app:v1`,
      ]),
    ).rejects.toThrow(/unauthorized|authentication required|invalid username or password|401/i);
    const manifest = await fetch(`${reg.url}/v2/team/app/manifests/v1`);
    expect(manifest.status).toBe(401);
  });

  it('copies a multi-layer OCI image in and back out, byte-identical', async () => {
    await skopeo([
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      'alice:correct horse battery',
      `oci:${layout.dir}:v1`,
      `docker://${host}/team/app:v1`,
    ]);
    expect(requests.some((r) => r.startsWith('GET /v2/token 200'))).toBe(true);
    const out = join(work, 'out');
    await skopeo([
      'copy',
      '--src-tls-verify=false',
      '--src-creds',
      'reader:only pulls please',
      `docker://${host}/team/app:v1`,
      `oci:${out}:v1`,
    ]);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    const manifestDigest = index.manifests[0].digest as string;
    expect(manifestDigest).toBe(`sha256:${sha(layout.manifest)}`);
    for (const [digest, bytes] of layout.blobs) {
      const copied = await readFile(join(out, 'blobs', 'sha256', digest.slice('sha256:'.length)));
      expect(copied.equals(bytes), digest).toBe(true);
    }
    const inspect = JSON.parse(
      (
        await skopeo([
          'inspect',
          '--raw',
          '--tls-verify=false',
          '--creds',
          'reader:only pulls please',
          `docker://${host}/team/app:v1`,
        ])
      ).stdout,
    );
    expect(inspect.layers).toHaveLength(3);
  });

  it('copies between repositories by mounting blobs across them', async () => {
    requests.length = 0;
    await skopeo([
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--src-creds',
      'alice:correct horse battery',
      '--dest-creds',
      'alice:correct horse battery',
      `docker://${host}/team/app:v1`,
      `docker://${host}/team/copy:v1`,
    ]);
    const mounts = requests.filter((r) => r.startsWith('POST /v2/team/copy/blobs/uploads/ 201 mount'));
    expect(mounts.length).toBeGreaterThanOrEqual(1);
    const res = await fetch(`${reg.url}/v2/team/copy/manifests/v1`, {
      headers: {
        authorization: `Bearer ${await token('alice:correct horse battery', 'repository:team/copy:pull')}`,
      },
    });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(layout.manifest)).toBe(true);
  });

  async function token(creds: string, scope: string): Promise<string> {
    const res = await fetch(`${reg.url}/v2/token?service=sigil-registry&scope=${encodeURIComponent(scope)}`, {
      headers: { authorization: `Basic ${Buffer.from(creds).toString('base64')}` },
    });
    return ((await res.json()) as { token: string }).token;
  }
});
