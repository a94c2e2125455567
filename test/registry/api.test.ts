// distribution-spec v1.1 over real HTTP (anonymous push): pull, push (monolithic, single POST, chunked, mount),
// content discovery (tags with n/last, catalog), referrers with artifactType filtering, deletion, HEAD, Range.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMPTY_CONFIG,
  errorCode,
  imageManifest,
  json,
  pushBlob,
  pushImage,
  putManifest,
  sha256,
  startRegistry,
  type TestRegistry,
} from './helpers.js';

let reg: TestRegistry;
let base: string;

beforeAll(async () => {
  reg = await startRegistry();
  base = reg.url;
});
afterAll(async () => {
  await reg.stop();
});

describe('API version check (end-1)', () => {
  it('answers 200 with the Docker API version header', async () => {
    const res = await fetch(`${base}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });
});

describe('pull', () => {
  it('serves a manifest by tag and by digest, byte-identical, with its stored media type', async () => {
    const img = await pushImage(base, 'pull/one', 'v1');
    for (const ref of ['v1', img.digest]) {
      const res = await fetch(`${base}/v2/pull/one/manifests/${ref}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(res.headers.get('docker-content-digest')).toBe(img.digest);
      expect(Buffer.from(await res.arrayBuffer()).equals(img.manifest)).toBe(true);
    }
    const head = await fetch(`${base}/v2/pull/one/manifests/v1`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(img.manifest.length));
    expect(head.headers.get('docker-content-digest')).toBe(img.digest);
  });

  it('answers 404 with spec codes for unknown manifests, blobs and repositories', async () => {
    await pushImage(base, 'pull/two', 'v1');
    const m = await fetch(`${base}/v2/pull/two/manifests/nope`);
    expect(m.status).toBe(404);
    expect(await errorCode(m)).toBe('MANIFEST_UNKNOWN');
    const b = await fetch(`${base}/v2/pull/two/blobs/${sha256('absent')}`);
    expect(b.status).toBe(404);
    expect(await errorCode(b)).toBe('BLOB_UNKNOWN');
    const r = await fetch(`${base}/v2/no/such/repo/manifests/latest`);
    expect(r.status).toBe(404);
    expect(await errorCode(r)).toBe('NAME_UNKNOWN');
    const h = await fetch(`${base}/v2/pull/two/blobs/${sha256('absent')}`, { method: 'HEAD' });
    expect(h.status).toBe(404);
  });

  it('serves blob byte ranges (RFC 9110) and 416 for unsatisfiable ones', async () => {
    const data = randomBytes(3000);
    const digest = await pushBlob(base, 'pull/range', data);
    const get = (range: string) => fetch(`${base}/v2/pull/range/blobs/${digest}`, { headers: { range } });
    const cases: [string, number, number][] = [
      ['bytes=500-1499', 500, 1499],
      ['bytes=500-', 500, 2999],
      ['bytes=-500', 2500, 2999],
      ['bytes=2000-5000', 2000, 2999],
    ];
    for (const [range, start, end] of cases) {
      const res = await get(range);
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/3000`);
      expect(res.headers.get('content-length')).toBe(String(end - start + 1));
      expect(Buffer.from(await res.arrayBuffer()).equals(data.subarray(start, end + 1))).toBe(true);
    }
    for (const range of ['bytes=500-0', 'bytes=5000-10000']) {
      const res = await get(range);
      expect(res.status).toBe(416);
      expect(res.headers.get('content-range')).toBe('bytes */3000');
    }
    const whole = await fetch(`${base}/v2/pull/range/blobs/${digest}`);
    expect(whole.headers.get('docker-content-digest')).toBe(digest);
    expect(Buffer.from(await whole.arrayBuffer()).equals(data)).toBe(true);
  });

  it('survives clients that hang up mid-download, and keeps serving', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const digest = await pushBlob(base, 'pull/abort', data);
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const res = await fetch(`${base}/v2/pull/abort/blobs/${digest}`, { signal: controller.signal });
      const reader = res.body!.getReader();
      await reader.read();
      controller.abort();
      await reader.read().catch(() => {});
    }
    const whole = await fetch(`${base}/v2/pull/abort/blobs/${digest}`);
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(digest);
  });

  it('keeps blobs private to the repositories that hold them', async () => {
    const digest = await pushBlob(base, 'private/a', Buffer.from('only in a'));
    await pushBlob(base, 'private/b', Buffer.from('something else'));
    const res = await fetch(`${base}/v2/private/b/blobs/${digest}`);
    expect(res.status).toBe(404);
  });
});

describe('push', () => {
  it('accepts a single-POST monolithic upload (end-4b)', async () => {
    const data = Buffer.from('single post');
    const digest = sha256(data);
    const res = await fetch(`${base}/v2/push/single/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v2/push/single/blobs/${digest}`);
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    const head = await fetch(`${base}/v2/push/single/blobs/${digest}`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(data.length));
  });

  it('accepts chunked uploads in order, reports status, and refuses out-of-order chunks with 416', async () => {
    const data = randomBytes(10_000);
    const digest = sha256(data);
    const post = await fetch(`${base}/v2/push/chunked/blobs/uploads/`, {
      method: 'POST',
      headers: { 'content-length': '0' },
    });
    expect(post.status).toBe(202);
    expect(post.headers.get('range')).toBe('0-0');
    let location = post.headers.get('location')!;
    expect(location).toMatch(/^\/v2\/push\/chunked\/blobs\/uploads\/[0-9a-f-]{36}$/);
    const patch = (start: number, end: number) =>
      fetch(`${base}${location}`, {
        method: 'PATCH',
        body: data.subarray(start, end + 1),
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}` },
      });
    const first = await patch(0, 3999);
    expect(first.status).toBe(202);
    expect(first.headers.get('range')).toBe('0-3999');
    location = first.headers.get('location')!;
    // A gap (skipping bytes) and a repeat are both out of order.
    for (const [s, e] of [
      [5000, 5999],
      [0, 999],
    ]) {
      const bad = await patch(s, e);
      expect(bad.status).toBe(416);
      expect(await errorCode(bad)).toBe('BLOB_UPLOAD_INVALID');
    }
    const status = await fetch(`${base}${location}`);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-3999');
    expect((await patch(4000, 7999)).status).toBe(202);
    // The last chunk travels with the closing PUT.
    const put = await fetch(`${base}${location}?digest=${digest}`, {
      method: 'PUT',
      body: data.subarray(8000),
      headers: { 'content-type': 'application/octet-stream', 'content-range': '8000-9999' },
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('location')).toBe(`/v2/push/chunked/blobs/${digest}`);
    const got = await fetch(`${base}/v2/push/chunked/blobs/${digest}`);
    expect(Buffer.from(await got.arrayBuffer()).equals(data)).toBe(true);
    // The session is gone once closed.
    expect((await fetch(`${base}${location}`)).status).toBe(404);
  });

  it('accepts a streamed PATCH without Content-Range (docker style) and an empty closing PUT', async () => {
    const data = randomBytes(70_000);
    const digest = sha256(data);
    const post = await fetch(`${base}/v2/push/stream/blobs/uploads/`, { method: 'POST' });
    const location = post.headers.get('location')!;
    const patch = await fetch(`${base}${location}`, { method: 'PATCH', body: data });
    expect(patch.status).toBe(202);
    expect(patch.headers.get('range')).toBe(`0-${data.length - 1}`);
    const put = await fetch(`${base}${location}?digest=${digest}`, { method: 'PUT' });
    expect(put.status).toBe(201);
  });

  it('takes a sha512 digest at the closing PUT of a session opened without digest-algorithm', async () => {
    const data = randomBytes(70_000);
    const digest = `sha512:${createHash('sha512').update(data).digest('hex')}`;
    const session = async () =>
      (await fetch(`${base}/v2/push/sha512/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    // The digest-algorithm parameter is only a SHOULD (spec "Pushing a blob"); the conformance suite omits it.
    const location = await session();
    expect(
      (await fetch(`${base}${location}`, { method: 'PATCH', body: data.subarray(0, 30_000) })).status,
    ).toBe(202);
    const put = await fetch(`${base}${location}?digest=${digest}`, {
      method: 'PUT',
      body: data.subarray(30_000),
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    const got = await fetch(`${base}/v2/push/sha512/blobs/${digest}`);
    expect(Buffer.from(await got.arrayBuffer()).equals(data)).toBe(true);
    // A sha512 that does not match is still refused, naming what the content's sha512 is.
    const other = await session();
    const wrong = `sha512:${'0'.repeat(128)}`;
    const bad = await fetch(`${base}${other}?digest=${wrong}`, { method: 'PUT', body: data });
    expect(bad.status).toBe(400);
    const body = await json(bad);
    expect(body.errors[0].code).toBe('DIGEST_INVALID');
    expect(body.errors[0].detail.actual).toBe(digest);
  });

  it('cancels an upload session (end-14)', async () => {
    const post = await fetch(`${base}/v2/push/cancel/blobs/uploads/`, { method: 'POST' });
    const location = post.headers.get('location')!;
    expect((await fetch(`${base}${location}`, { method: 'DELETE' })).status).toBe(204);
    const after = await fetch(`${base}${location}`);
    expect(after.status).toBe(404);
    expect(await errorCode(after)).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  it('mounts a blob from another repository (end-11), and falls back to an upload when it cannot', async () => {
    const data = Buffer.from('mount me');
    const digest = await pushBlob(base, 'mount/src', data);
    const res = await fetch(`${base}/v2/mount/dst/blobs/uploads/?mount=${digest}&from=mount/src`, {
      method: 'POST',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v2/mount/dst/blobs/${digest}`);
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    const got = await fetch(`${base}/v2/mount/dst/blobs/${digest}`);
    expect(Buffer.from(await got.arrayBuffer()).equals(data)).toBe(true);
    const missing = await fetch(
      `${base}/v2/mount/dst2/blobs/uploads/?mount=${sha256('nope')}&from=mount/src`,
      {
        method: 'POST',
      },
    );
    expect(missing.status).toBe(202);
    expect(missing.headers.get('location')).toMatch(/^\/v2\/mount\/dst2\/blobs\/uploads\//);
  });

  it('pushes manifests by digest with ?tag= and reports OCI-Tag', async () => {
    const img = await pushImage(base, 'push/tags', 'first');
    const res = await putManifest(base, 'push/tags', `${img.digest}?tag=a&tag=b`, img.manifest);
    expect(res.status).toBe(201);
    expect(res.headers.get('oci-tag')).toBe('a, b');
    expect(res.headers.get('location')).toBe(`/v2/push/tags/manifests/${img.digest}`);
    const list = await json(await fetch(`${base}/v2/push/tags/tags/list`));
    expect(list).toEqual({ name: 'push/tags', tags: ['a', 'b', 'first'] });
  });

  it('stores Docker schema2 manifests and manifest lists, and indexes that point at manifests', async () => {
    const repo = 'push/docker';
    const config = await pushBlob(base, repo, EMPTY_CONFIG);
    const layer = Buffer.from('docker layer');
    const layerDigest = await pushBlob(base, repo, layer);
    const docker = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: config, size: 2 },
        layers: [
          {
            mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
            digest: layerDigest,
            size: layer.length,
          },
        ],
      }),
    );
    expect(
      (await putManifest(base, repo, 'd', docker, 'application/vnd.docker.distribution.manifest.v2+json'))
        .status,
    ).toBe(201);
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
        manifests: [
          {
            mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
            digest: sha256(docker),
            size: docker.length,
            platform: { architecture: 'amd64', os: 'linux' },
          },
        ],
      }),
    );
    const res = await putManifest(
      base,
      repo,
      'list',
      list,
      'application/vnd.docker.distribution.manifest.list.v2+json',
    );
    expect(res.status).toBe(201);
    const got = await fetch(`${base}/v2/${repo}/manifests/list`);
    expect(got.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    // An index whose child is not in the repository is refused.
    const orphan = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256('x'), size: 1 },
        ],
      }),
    );
    const refused = await putManifest(
      base,
      repo,
      'orphan',
      orphan,
      'application/vnd.oci.image.index.v1+json',
    );
    expect(refused.status).toBe(400);
    expect(await errorCode(refused)).toBe('MANIFEST_BLOB_UNKNOWN');
  });
});

describe('content discovery', () => {
  it('lists tags in order with n/last pagination and a Link header', async () => {
    const img = await pushImage(base, 'disc/tags', 'c');
    for (const tag of ['a', 'B', 'd', 'b']) {
      expect((await putManifest(base, 'disc/tags', tag, img.manifest)).status).toBe(201);
    }
    const all = await json(await fetch(`${base}/v2/disc/tags/tags/list`));
    expect(all.tags).toEqual(['B', 'a', 'b', 'c', 'd']);
    const page1 = await fetch(`${base}/v2/disc/tags/tags/list?n=2`);
    expect((await json(page1)).tags).toEqual(['B', 'a']);
    expect(page1.headers.get('link')).toBe('</v2/disc/tags/tags/list?n=2&last=a>; rel="next"');
    const page2 = await fetch(`${base}/v2/disc/tags/tags/list?n=2&last=a`);
    expect((await json(page2)).tags).toEqual(['b', 'c']);
    const page3 = await fetch(`${base}/v2/disc/tags/tags/list?n=2&last=c`);
    expect((await json(page3)).tags).toEqual(['d']);
    expect(page3.headers.get('link')).toBeNull();
    const zero = await fetch(`${base}/v2/disc/tags/tags/list?n=0`);
    expect((await json(zero)).tags).toEqual([]);
    expect(zero.headers.get('link')).toBeNull();
    const bad = await fetch(`${base}/v2/disc/tags/tags/list?n=-1`);
    expect(bad.status).toBe(400);
    const unknown = await fetch(`${base}/v2/disc/none/tags/list`);
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe('NAME_UNKNOWN');
  });

  it('lists repositories in the catalog', async () => {
    await pushBlob(base, 'disc/cat-a', Buffer.from('a'));
    await pushBlob(base, 'disc/cat-b', Buffer.from('b'));
    const body = await json(await fetch(`${base}/v2/_catalog?last=disc/cat&n=2`));
    expect(body.repositories).toEqual(['disc/cat-a', 'disc/cat-b']);
  });
});

describe('referrers (end-12)', () => {
  it('indexes manifests by subject, answers OCI-Subject, and filters by artifactType', async () => {
    const repo = 'ref/app';
    const img = await pushImage(base, repo, 'v1');
    const config = await pushBlob(base, repo, EMPTY_CONFIG);
    const sigLayer = Buffer.from('signature bytes');
    const sigDigest = await pushBlob(base, repo, sigLayer);
    const subject = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.digest,
      size: img.manifest.length,
    };
    const sig = imageManifest(
      { digest: config, size: 2, mediaType: 'application/vnd.oci.empty.v1+json' },
      [{ digest: sigDigest, size: sigLayer.length }],
      {
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        subject,
        annotations: { 'org.example': 'sig' },
      },
    );
    const sbom = imageManifest(
      { digest: config, size: 2, mediaType: 'application/vnd.example.sbom.v1' },
      [{ digest: sigDigest, size: sigLayer.length }],
      { subject },
    );
    const res = await putManifest(base, repo, sha256(sig), sig);
    expect(res.status).toBe(201);
    expect(res.headers.get('oci-subject')).toBe(img.digest);
    expect((await putManifest(base, repo, sha256(sbom), sbom)).status).toBe(201);

    const all = await fetch(`${base}/v2/${repo}/referrers/${img.digest}`);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    const index = await json(all);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests).toEqual([
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256(sig),
        size: sig.length,
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        annotations: { 'org.example': 'sig' },
      },
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256(sbom),
        size: sbom.length,
        // No artifactType on the manifest: the config's media type stands in (spec "Listing Referrers").
        artifactType: 'application/vnd.example.sbom.v1',
      },
    ]);
    const filtered = await fetch(
      `${base}/v2/${repo}/referrers/${img.digest}?artifactType=application/vnd.example.sbom.v1`,
    );
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    expect((await json(filtered)).manifests.map((m: { digest: string }) => m.digest)).toEqual([sha256(sbom)]);
    // Unknown subjects have an empty list, never a 404; malformed digests are a 400.
    const none = await fetch(`${base}/v2/${repo}/referrers/${sha256('nothing')}`);
    expect(none.status).toBe(200);
    expect((await json(none)).manifests).toEqual([]);
    expect((await fetch(`${base}/v2/${repo}/referrers/sha256:xyz`)).status).toBe(400);
  });

  it('accepts a referrer before its subject exists', async () => {
    const repo = 'ref/early';
    const config = await pushBlob(base, repo, EMPTY_CONFIG);
    const subjectDigest = sha256('not pushed yet');
    const m = imageManifest({ digest: config, size: 2 }, [], {
      subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subjectDigest, size: 14 },
    });
    const res = await putManifest(base, repo, sha256(m), m);
    expect(res.status).toBe(201);
    const index = await json(await fetch(`${base}/v2/${repo}/referrers/${subjectDigest}`));
    expect(index.manifests).toHaveLength(1);
  });
});

describe('content management', () => {
  it('deletes tags, manifests (with their tags and referrer entries) and blobs', async () => {
    const repo = 'del/app';
    const img = await pushImage(base, repo, 'v1');
    await putManifest(base, repo, 'v2', img.manifest);
    expect((await fetch(`${base}/v2/${repo}/manifests/v2`, { method: 'DELETE' })).status).toBe(202);
    expect((await fetch(`${base}/v2/${repo}/manifests/v2`)).status).toBe(404);
    expect((await fetch(`${base}/v2/${repo}/manifests/v1`)).status).toBe(200);
    expect((await fetch(`${base}/v2/${repo}/manifests/${img.digest}`, { method: 'DELETE' })).status).toBe(
      202,
    );
    expect((await fetch(`${base}/v2/${repo}/manifests/v1`)).status).toBe(404);
    expect((await fetch(`${base}/v2/${repo}/manifests/${img.digest}`)).status).toBe(404);
    const again = await fetch(`${base}/v2/${repo}/manifests/${img.digest}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(await errorCode(again)).toBe('MANIFEST_UNKNOWN');
    expect((await fetch(`${base}/v2/${repo}/blobs/${img.layerDigest}`, { method: 'DELETE' })).status).toBe(
      202,
    );
    expect((await fetch(`${base}/v2/${repo}/blobs/${img.layerDigest}`, { method: 'HEAD' })).status).toBe(404);
    const blobAgain = await fetch(`${base}/v2/${repo}/blobs/${img.layerDigest}`, { method: 'DELETE' });
    expect(blobAgain.status).toBe(404);
    expect(await errorCode(blobAgain)).toBe('BLOB_UNKNOWN');
  });

  it('refuses methods an endpoint does not have with 405', async () => {
    const res = await fetch(`${base}/v2/del/app/tags/list`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(await errorCode(res)).toBe('UNSUPPORTED');
  });
});
