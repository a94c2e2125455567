// The real crane (google/go-containerregistry, installed by scripts/peers.sh) against sigil's OCI registry, with
// the credentials `sigil up` wrote (DOCKER_CONFIG from the peer stack): push of a tarball and of an OCI layout,
// pull, digest, manifest, config, blob, export, ls, tag, copy across repositories (blob mounts), an image index,
// a manifest with a subject (OCI 1.1 referrers), delete, catalog and the token flow; without valid credentials a
// push is refused, and by default so is a pull, unless `sigil up --anonymous-pull`. Contents are checked against
// what was pushed, not against what sigil says.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStackProcess } from '../../src/demo/index.js';
import { cleanEnv, freePort } from '../e2e/helpers.js';
import { describePeer, type PeerStack, ROOT, runPeer, said, startPeerStack } from './peers.js';

const sha256 = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A file out of a tar archive (GNU tar, as the CI image has). */
const fromTar = (archive: string, member: string) =>
  execFileSync('tar', ['-xOf', archive, member], { maxBuffer: 64 * 1024 * 1024 });

/** The `access` claim of the token `crane auth token` printed. */
const anonymousAccess = (stdout: string) => {
  const jwt = (JSON.parse(stdout) as { token: string }).token;
  return (JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as { access: unknown[] }).access;
};

interface Manifest {
  mediaType: string;
  config: { digest: string; mediaType: string };
  layers: { digest: string; mediaType: string; size: number }[];
  manifests?: { digest: string }[];
}

describePeer('crane', "crane against sigil's registry", (bin) => {
  let stack: PeerStack;
  let reg: string;
  const content = `crane was here ${randomBytes(8).toString('hex')}\n`;
  let layerTar: string;
  /** `REGISTRY/acme/crane@sha256:…`, pushed by `crane append` in beforeAll. */
  let pushed: string;
  let digest: string;

  const crane = (args: string[], env: NodeJS.ProcessEnv = stack.env) => runPeer(bin, args, env);

  beforeAll(async () => {
    stack = await startPeerStack();
    reg = stack.registry;
    const dir = join(stack.work, 'layer');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'hello.txt'), content);
    layerTar = join(stack.work, 'layer.tar');
    execFileSync('tar', ['-C', dir, '-cf', layerTar, 'hello.txt']);
    // crane talks plain HTTP to 127.0.0.1 without --insecure (go-containerregistry's name.Registry.Scheme).
    const r = await crane(['append', '-f', layerTar, '-t', `${reg}/acme/crane:v1`]);
    expect(r.code, said(r)).toBe(0);
    pushed = r.stdout.trim();
    expect(pushed).toMatch(new RegExp(`^${reg}/acme/crane@sha256:[0-9a-f]{64}$`));
    digest = pushed.split('@')[1];
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('digest, manifest, config and blob read back what append pushed', async () => {
    const d = await crane(['digest', `${reg}/acme/crane:v1`]);
    expect(d.code, said(d)).toBe(0);
    expect(d.stdout.trim()).toBe(digest);

    const m = await crane(['manifest', `${reg}/acme/crane:v1`]);
    expect(m.code, said(m)).toBe(0);
    // The manifest's bytes are what its digest names (distribution spec: content addressable).
    expect(sha256(m.stdout)).toBe(digest);
    const manifest = JSON.parse(m.stdout) as Manifest;
    expect(manifest.layers).toHaveLength(1);

    const c = await crane(['config', pushed]);
    expect(c.code, said(c)).toBe(0);
    expect(sha256(c.stdout)).toBe(manifest.config.digest);
    const config = JSON.parse(c.stdout) as { rootfs: { diff_ids: string[] } };
    // The uncompressed layer is the tar made here.
    expect(config.rootfs.diff_ids).toEqual([sha256(await readFile(layerTar))]);

    // Through a shell: the layer is gzip, which a UTF-8 decoded stdout would not keep intact.
    const blobFile = join(stack.work, 'layer.tgz');
    const layerRef = `${reg}/acme/crane@${manifest.layers[0].digest}`;
    const b = await runPeer('bash', ['-c', '"$0" blob "$1" > "$2"', bin, layerRef, blobFile], stack.env);
    expect(b.code, said(b)).toBe(0);
    expect(sha256(await readFile(blobFile))).toBe(manifest.layers[0].digest);

    const v = await crane(['validate', '--remote', pushed]);
    expect(v.code, said(v)).toBe(0);
    expect(v.stdout).toContain('PASS');
  });

  it('pull to a tarball and an OCI layout, push both back under new names with the same digest', async () => {
    const tarball = join(stack.work, 'pulled.tar');
    const pull = await crane(['pull', `${reg}/acme/crane:v1`, tarball]);
    expect(pull.code, said(pull)).toBe(0);
    const manifest = JSON.parse(fromTar(tarball, 'manifest.json').toString()) as { RepoTags: string[] }[];
    expect(manifest[0].RepoTags).toEqual([`${reg}/acme/crane:v1`]);

    const push = await crane(['push', tarball, `${reg}/acme/from-tarball:t1`]);
    expect(push.code, said(push)).toBe(0);
    expect(push.stdout.trim()).toBe(`${reg}/acme/from-tarball@${digest}`);

    const layout = join(stack.work, 'layout');
    const pullOci = await crane(['pull', '--format', 'oci', pushed, layout]);
    expect(pullOci.code, said(pullOci)).toBe(0);
    const pushOci = await crane(['push', layout, `${reg}/acme/from-layout:t1`]);
    expect(pushOci.code, said(pushOci)).toBe(0);
    expect(pushOci.stdout.trim()).toBe(`${reg}/acme/from-layout@${digest}`);

    const exported = join(stack.work, 'exported.tar');
    const exp = await crane(['export', `${reg}/acme/from-layout:t1`, exported]);
    expect(exp.code, said(exp)).toBe(0);
    expect(fromTar(exported, 'hello.txt').toString()).toBe(content);
  });

  it('a larger layer goes up and comes back byte for byte', async () => {
    const dir = join(stack.work, 'big');
    await mkdir(dir, { recursive: true });
    const data = randomBytes(6 * 1024 * 1024);
    await writeFile(join(dir, 'random.bin'), data);
    const tar = join(stack.work, 'big.tar');
    execFileSync('tar', ['-C', dir, '-cf', tar, 'random.bin']);
    const r = await crane(['append', '-f', tar, '-t', `${reg}/acme/big:v1`]);
    expect(r.code, said(r)).toBe(0);
    const exported = join(stack.work, 'big-exported.tar');
    const exp = await crane(['export', `${reg}/acme/big:v1`, exported]);
    expect(exp.code, said(exp)).toBe(0);
    expect(sha256(fromTar(exported, 'random.bin'))).toBe(sha256(data));
  });

  it('tag and ls list the tags; copy to another repository mounts the blobs and keeps the digest', async () => {
    const tag = await crane(['tag', `${reg}/acme/crane:v1`, 'v2']);
    expect(tag.code, said(tag)).toBe(0);
    const ls = await crane(['ls', `${reg}/acme/crane`]);
    expect(ls.code, said(ls)).toBe(0);
    expect(ls.stdout.trim().split('\n')).toEqual(['v1', 'v2']);

    const copy = await crane(['copy', `${reg}/acme/crane:v1`, `${reg}/other/copied:c1`]);
    expect(copy.code, said(copy)).toBe(0);
    // Cross-repository blob mount (distribution spec "Mounting a blob from another repository"): crane asks
    // for a mount and the registry answers 201, so no layer is uploaded again.
    expect(copy.stderr).toMatch(/mounted blob: sha256:/);
    expect(copy.stderr).not.toMatch(/pushed blob/);
    const d = await crane(['digest', `${reg}/other/copied:c1`]);
    expect(d.stdout.trim(), said(d)).toBe(digest);

    const catalog = await crane(['catalog', reg]);
    expect(catalog.code, said(catalog)).toBe(0);
    expect(catalog.stdout.trim().split('\n')).toEqual(
      expect.arrayContaining(['acme/crane', 'acme/from-tarball', 'other/copied']),
    );
  });

  it('ls follows the Link header past the page size crane asks for (n=1000)', async () => {
    // 1,050 tags put straight through the API with a push token crane got, then listed by crane. The blobs
    // must be in the repository first (else MANIFEST_BLOB_UNKNOWN): crane copy mounts them.
    const copy = await crane(['copy', pushed, `${reg}/acme/many:base`]);
    expect(copy.code, said(copy)).toBe(0);
    const token = await crane(['auth', 'token', '--push', `${reg}/acme/many`]);
    expect(token.code, said(token)).toBe(0);
    const bearer = `Bearer ${(JSON.parse(token.stdout) as { token: string }).token}`;
    const body = (await crane(['manifest', pushed])).stdout;
    const type = (JSON.parse(body) as Manifest).mediaType;
    const tags = Array.from({ length: 1050 }, (_, i) => `t${String(i).padStart(4, '0')}`);
    for (let i = 0; i < tags.length; i += 50) {
      const statuses = await Promise.all(
        tags.slice(i, i + 50).map(async (t) => {
          const res = await fetch(`${stack.url}/v2/acme/many/manifests/${t}`, {
            method: 'PUT',
            headers: { authorization: bearer, 'content-type': type },
            body,
          });
          await res.arrayBuffer();
          return res.status;
        }),
      );
      expect(new Set(statuses)).toEqual(new Set([201]));
    }
    // What crane gets for its first request: one page and a Link to the rest (distribution spec "Listing Tags").
    const first = await fetch(`${stack.url}/v2/acme/many/tags/list?n=1000`, {
      headers: { authorization: bearer },
    });
    expect(((await first.json()) as { tags: string[] }).tags).toHaveLength(1000);
    expect(first.headers.get('link')).toMatch(
      /^<\/v2\/acme\/many\/tags\/list\?n=1000&last=t0998>; rel="next"$/,
    );
    const ls = await crane(['ls', `${reg}/acme/many`]);
    expect(ls.code, said(ls)).toBe(0);
    expect(ls.stdout.trim().split('\n')).toEqual(['base', ...tags]);
  });

  it('mutate adds an annotation and a label, pushing a new manifest that reuses the layer', async () => {
    const r = await crane([
      'mutate',
      '--annotation',
      'org.example.checked-by=crane',
      '--label',
      'stage=test',
      '-t',
      `${reg}/acme/mutated:v1`,
      pushed,
    ]);
    expect(r.code, said(r)).toBe(0);
    expect(r.stderr).toMatch(/existing blob|mounted blob/);
    const m = JSON.parse((await crane(['manifest', `${reg}/acme/mutated:v1`])).stdout) as Manifest & {
      annotations: Record<string, string>;
    };
    expect(m.annotations).toEqual({ 'org.example.checked-by': 'crane' });
    const original = JSON.parse((await crane(['manifest', pushed])).stdout) as Manifest;
    expect(m.layers.map((l) => l.digest)).toEqual(original.layers.map((l) => l.digest));
    const config = JSON.parse((await crane(['config', `${reg}/acme/mutated:v1`])).stdout) as {
      config: { Labels: Record<string, string> };
    };
    expect(config.config.Labels).toEqual({ stage: 'test' });
  });

  it('an image index of two images is pushed, read and copied whole', async () => {
    const oci = await crane(['append', '--oci-empty-base', '-f', layerTar, '-t', `${reg}/acme/oci:v1`]);
    expect(oci.code, said(oci)).toBe(0);
    const ociDigest = oci.stdout.trim().split('@')[1];
    const idx = await crane([
      'index',
      'append',
      '-m',
      `${reg}/acme/oci:v1`,
      '-m',
      `${reg}/acme/crane:v1`,
      '-t',
      `${reg}/acme/index:v1`,
    ]);
    expect(idx.code, said(idx)).toBe(0);
    const m = await crane(['manifest', `${reg}/acme/index:v1`]);
    expect(m.code, said(m)).toBe(0);
    const index = JSON.parse(m.stdout) as Manifest;
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests?.map((x) => x.digest)).toEqual([ociDigest, digest]);

    const copy = await crane(['copy', `${reg}/acme/index:v1`, `${reg}/mirror/index:v1`]);
    expect(copy.code, said(copy)).toBe(0);
    const d = await crane(['digest', `${reg}/mirror/index:v1`]);
    expect(d.stdout.trim(), said(d)).toBe(sha256(m.stdout));
    const child = await crane(['manifest', `${reg}/mirror/index@${ociDigest}`]);
    expect(child.code, said(child)).toBe(0);
    expect((JSON.parse(child.stdout) as Manifest).mediaType).toBe(
      'application/vnd.oci.image.manifest.v1+json',
    );
  });

  it('a manifest with a subject is listed by the referrers API, with no fallback tag', async () => {
    // An OCI layout holding one artifact manifest whose subject is the pushed image.
    const layout = join(stack.work, 'artifact');
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
    const put = async (data: Buffer) => {
      const d = sha256(data);
      await writeFile(join(layout, 'blobs', 'sha256', d.slice(7)), data);
      return { digest: d, size: data.length };
    };
    const subject = (await crane(['manifest', pushed])).stdout;
    const artifact = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.example.sbom',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', ...(await put(Buffer.from('{}'))) },
        layers: [{ mediaType: 'text/plain', ...(await put(Buffer.from('an sbom'))) }],
        subject: {
          mediaType: (JSON.parse(subject) as Manifest).mediaType,
          digest,
          size: Buffer.byteLength(subject),
        },
      }),
    );
    const m = await put(artifact);
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m }],
      }),
    );
    await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');

    const push = await crane(['push', layout, `${reg}/acme/crane:sbom`]);
    expect(push.code, said(push)).toBe(0);
    expect(push.stdout.trim()).toBe(`${reg}/acme/crane@${m.digest}`);

    // go-containerregistry writes the referrers tag schema's `sha256-<hex>` index only when the registry's
    // answer to the manifest PUT lacks OCI-Subject (distribution spec "Pushing Manifests with Subject").
    const ls = await crane(['ls', `${reg}/acme/crane`]);
    expect(ls.stdout.trim().split('\n'), said(ls)).not.toContain(`sha256-${digest.slice(7)}`);

    const token = await crane(['auth', 'token', `${reg}/acme/crane`]);
    expect(token.code, said(token)).toBe(0);
    const res = await fetch(`${stack.url}/v2/acme/crane/referrers/${digest}`, {
      headers: { authorization: `Bearer ${(JSON.parse(token.stdout) as { token: string }).token}` },
    });
    expect(res.status).toBe(200);
    const referrers = (await res.json()) as { manifests: { digest: string; artifactType: string }[] };
    expect(referrers.manifests).toEqual([
      expect.objectContaining({ digest: m.digest, artifactType: 'application/vnd.example.sbom' }),
    ]);
  });

  it('delete removes a tag, then the manifest by digest', async () => {
    const copy = await crane(['copy', pushed, `${reg}/acme/doomed:a`]);
    expect(copy.code, said(copy)).toBe(0);
    expect((await crane(['tag', `${reg}/acme/doomed:a`, 'b'])).code).toBe(0);

    const delTag = await crane(['delete', `${reg}/acme/doomed:b`]);
    expect(delTag.code, said(delTag)).toBe(0);
    const ls = await crane(['ls', `${reg}/acme/doomed`]);
    expect(ls.stdout.trim().split('\n'), said(ls)).toEqual(['a']);

    const delDigest = await crane(['delete', `${reg}/acme/doomed@${digest}`]);
    expect(delDigest.code, said(delDigest)).toBe(0);
    const gone = await crane(['manifest', `${reg}/acme/doomed@${digest}`]);
    expect(gone.code, said(gone)).not.toBe(0);
    expect(gone.stderr).toContain('MANIFEST_UNKNOWN');
    // The source repository still has it.
    expect((await crane(['digest', pushed])).stdout.trim()).toBe(digest);
  });

  it('unknown names and references are 404s with the spec error codes', async () => {
    const tag = await crane(['digest', `${reg}/acme/crane:no-such-tag`]);
    expect(tag.code, said(tag)).not.toBe(0);
    expect(tag.stderr).toContain('MANIFEST_UNKNOWN');
    const repo = await crane(['ls', `${reg}/no/such-repo`]);
    expect(repo.code, said(repo)).not.toBe(0);
    expect(repo.stderr).toContain('NAME_UNKNOWN');
    const blob = await crane(['blob', `${reg}/acme/crane@${sha256('no such blob')}`]);
    expect(blob.code, said(blob)).not.toBe(0);
    expect(blob.stderr).toContain('BLOB_UNKNOWN');
  });

  it('refuses a push without credentials or with a wrong password', async () => {
    const anonymous = join(stack.work, 'docker-anonymous');
    await mkdir(anonymous, { recursive: true });
    await writeFile(join(anonymous, 'config.json'), '{"auths":{}}');
    const anon = await crane(['append', '-f', layerTar, '-t', `${reg}/acme/anonymous:v1`], {
      ...stack.env,
      DOCKER_CONFIG: anonymous,
    });
    expect(anon.code, said(anon)).not.toBe(0);
    // crane first HEADs the manifest, which now needs credentials too: a 401 without a body.
    expect(anon.stderr).toMatch(/UNAUTHORIZED|401 Unauthorized/);

    // An anonymous token is the intersection of what was asked and what anyone may do (token.md): by default
    // nothing, since anonymous pull is off; so an anonymous pull is refused as well.
    const token = await crane(['auth', 'token', '--push', `${reg}/acme/crane`], {
      ...stack.env,
      DOCKER_CONFIG: anonymous,
    });
    expect(token.code, said(token)).toBe(0);
    expect(anonymousAccess(token.stdout)).toEqual([]);
    const pull = await crane(['digest', `${reg}/acme/crane:v1`], { ...stack.env, DOCKER_CONFIG: anonymous });
    expect(pull.code, said(pull)).not.toBe(0);
    expect(pull.stderr).toContain('UNAUTHORIZED');
    const catalog = await crane(['catalog', reg], { ...stack.env, DOCKER_CONFIG: anonymous });
    expect(catalog.code, said(catalog)).not.toBe(0);

    const wrong = join(stack.work, 'docker-wrong');
    await mkdir(wrong, { recursive: true });
    await writeFile(
      join(wrong, 'config.json'),
      JSON.stringify({
        auths: { [reg]: { auth: Buffer.from('sigil:not-the-password').toString('base64') } },
      }),
    );
    const bad = await crane(['append', '-f', layerTar, '-t', `${reg}/acme/anonymous:v1`], {
      ...stack.env,
      DOCKER_CONFIG: wrong,
    });
    expect(bad.code, said(bad)).not.toBe(0);
    expect(bad.stderr).toContain('UNAUTHORIZED');

    // Nothing was written.
    const ls = await crane(['ls', `${reg}/acme/anonymous`]);
    expect(ls.code, said(ls)).not.toBe(0);
    expect(ls.stderr).toContain('NAME_UNKNOWN');
  });

  it('crane auth login stores working credentials', async () => {
    const config = JSON.parse(
      await readFile(join(stack.env.DOCKER_CONFIG as string, 'config.json'), 'utf8'),
    ) as {
      auths: Record<string, { auth: string }>;
    };
    const [user, password] = Buffer.from(config.auths[reg].auth, 'base64').toString().split(':');
    const fresh = join(stack.work, 'docker-login');
    await mkdir(fresh, { recursive: true });
    const env = { ...stack.env, DOCKER_CONFIG: fresh };
    const login = await runPeer(bin, ['auth', 'login', reg, '-u', user, '--password-stdin'], env, {
      input: password,
    });
    expect(login.code, said(login)).toBe(0);
    const push = await crane(['copy', pushed, `${reg}/acme/after-login:v1`], env);
    expect(push.code, said(push)).toBe(0);
  });
  it('sigil up --anonymous-pull lets anyone pull (not push, not list the catalog)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sigil-peers-anon-'));
    const port = await freePort();
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    const open = await startStackProcess(
      { node: process.execPath, script: join(ROOT, 'bin', 'sigil.js') },
      ['--data-dir', dataDir, '--port', String(port), '--log-level', 'warn', '--anonymous-pull'],
      { env: cleanEnv(), cwd: ROOT, echo: quiet, timeoutMs: 60_000, dataDir },
    );
    try {
      const openReg = open.endpoints.registry;
      const withLogin = join(stack.work, 'docker-open');
      await mkdir(withLogin, { recursive: true });
      await writeFile(
        join(withLogin, 'config.json'),
        await readFile(open.endpoints.env.REGISTRY_AUTH_FILE as string),
      );
      const anonymous = join(stack.work, 'docker-anonymous-open');
      await mkdir(anonymous, { recursive: true });
      await writeFile(join(anonymous, 'config.json'), '{"auths":{}}');
      const anonEnv = { ...stack.env, DOCKER_CONFIG: anonymous };

      const push = await crane(['append', '-f', layerTar, '-t', `${openReg}/acme/public:v1`], {
        ...stack.env,
        DOCKER_CONFIG: withLogin,
      });
      expect(push.code, said(push)).toBe(0);
      const pushedDigest = push.stdout.trim().split('@')[1];

      const token = await crane(['auth', 'token', '--push', `${openReg}/acme/public`], anonEnv);
      expect(token.code, said(token)).toBe(0);
      expect(anonymousAccess(token.stdout)).toEqual([
        expect.objectContaining({ name: 'acme/public', actions: ['pull'] }),
      ]);
      const d = await crane(['digest', `${openReg}/acme/public:v1`], anonEnv);
      expect(d.code, said(d)).toBe(0);
      expect(d.stdout.trim()).toBe(pushedDigest);
      const exported = join(stack.work, 'public-exported.tar');
      const exp = await crane(['export', `${openReg}/acme/public:v1`, exported], anonEnv);
      expect(exp.code, said(exp)).toBe(0);
      expect(fromTar(exported, 'hello.txt').toString()).toBe(content);

      const anonPush = await crane(['append', '-f', layerTar, '-t', `${openReg}/acme/public:v2`], anonEnv);
      expect(anonPush.code, said(anonPush)).not.toBe(0);
      expect(anonPush.stderr).toContain('UNAUTHORIZED');
      const catalog = await crane(['catalog', openReg], anonEnv);
      expect(catalog.code, said(catalog)).not.toBe(0);
    } finally {
      await open.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
