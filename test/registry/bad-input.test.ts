// Bad input gets a distribution-spec error code and status, and leaves nothing half-written: wrong digests,
// truncated uploads, bad Content-Range, invalid names and references, oversize manifests, unknown media types,
// manifests pointing at missing blobs.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MANIFEST_BYTES } from '../../src/registry/index.js';
import {
  EMPTY_CONFIG,
  errorCode,
  imageManifest,
  json,
  listFiles,
  pushBlob,
  putManifest,
  rawRequest,
  sha256,
  startRegistry,
  type TestRegistry,
  truncatedRequest,
} from './helpers.js';

let reg: TestRegistry;
let base: string;
const blobsDir = () => join(reg.dataDir, 'registry', 'blobs');
const uploadsDir = () => join(reg.dataDir, 'registry', 'uploads');

beforeAll(async () => {
  reg = await startRegistry();
  base = reg.url;
});
afterAll(async () => {
  await reg.stop();
});

async function startUpload(repo: string): Promise<string> {
  const res = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  expect(res.status).toBe(202);
  return res.headers.get('location')!;
}

async function uploadedBytes(location: string): Promise<string | null> {
  const res = await fetch(`${base}${location}`);
  expect(res.status).toBe(204);
  return res.headers.get('range');
}

describe('blob uploads', () => {
  it('refuses a wrong digest (DIGEST_INVALID) and publishes nothing', async () => {
    const before = await listFiles(blobsDir());
    const data = Buffer.from('the real content');
    const claimed = sha256('other content');
    const location = await startUpload('bad/digest');
    const res = await fetch(`${base}${location}?digest=${claimed}`, { method: 'PUT', body: data });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.errors[0].code).toBe('DIGEST_INVALID');
    expect(body.errors[0].detail.actual).toBe(sha256(data));
    expect((await fetch(`${base}/v2/bad/digest/blobs/${claimed}`, { method: 'HEAD' })).status).toBe(404);
    expect((await fetch(`${base}/v2/bad/digest/blobs/${sha256(data)}`, { method: 'HEAD' })).status).toBe(404);
    expect(await listFiles(blobsDir())).toEqual(before);
    // The failed session is discarded.
    expect((await fetch(`${base}${location}`)).status).toBe(404);
  });

  it('refuses malformed and unsupported digests with 400', async () => {
    const location = await startUpload('bad/digest2');
    for (const digest of [
      'sha256:abc',
      'md5:d41d8cd98f00b204e9800998ecf8427e',
      'SHA256:' + 'a'.repeat(64),
      'nocolon',
    ]) {
      const res = await fetch(`${base}${location}?digest=${encodeURIComponent(digest)}`, {
        method: 'PUT',
        body: 'x',
      });
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('DIGEST_INVALID');
    }
    const missing = await fetch(`${base}${location}`, { method: 'PUT', body: 'x' });
    expect(missing.status).toBe(400);
    expect(await errorCode(missing)).toBe('DIGEST_INVALID');
    const get = await fetch(`${base}/v2/bad/digest2/blobs/sha256:zz`);
    expect(get.status).toBe(400);
    expect(await errorCode(get)).toBe('DIGEST_INVALID');
  });

  it('rolls back a chunk whose connection dies mid-body, and the session stays resumable', async () => {
    const data = randomBytes(200_000);
    const location = await startUpload('bad/truncated');
    const first = await fetch(`${base}${location}`, {
      method: 'PATCH',
      body: data.subarray(0, 100_000),
      headers: { 'content-range': '0-99999' },
    });
    expect(first.status).toBe(202);
    // Promise 100 000 more bytes, deliver 30 000, hang up.
    await truncatedRequest(base, 'PATCH', location, 100_000, data.subarray(100_000, 130_000));
    await new Promise((r) => setTimeout(r, 100));
    expect(await uploadedBytes(location)).toBe('0-99999');
    const rest = await fetch(`${base}${location}?digest=${sha256(data)}`, {
      method: 'PUT',
      body: data.subarray(100_000),
      headers: { 'content-range': '100000-199999' },
    });
    expect(rest.status).toBe(201);
    const got = await fetch(`${base}/v2/bad/truncated/blobs/${sha256(data)}`);
    expect(Buffer.from(await got.arrayBuffer()).equals(data)).toBe(true);
  });

  it('never publishes a monolithic upload cut short', async () => {
    const data = randomBytes(100_000);
    const before = await listFiles(blobsDir());
    const location = await startUpload('bad/truncated2');
    await truncatedRequest(
      base,
      'PUT',
      `${location}?digest=${sha256(data)}`,
      data.length,
      data.subarray(0, 50_000),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${base}/v2/bad/truncated2/blobs/${sha256(data)}`, { method: 'HEAD' })).status).toBe(
      404,
    );
    expect(await listFiles(blobsDir())).toEqual(before);
    expect(await uploadedBytes(location)).toBe('0-0');
  });

  it('refuses bad Content-Range headers', async () => {
    const location = await startUpload('bad/range');
    const patch = (range: string, body: Buffer) =>
      fetch(`${base}${location}`, { method: 'PATCH', body, headers: { 'content-range': range } });
    const garbage = await patch('bytes=abc', Buffer.from('x'));
    expect(garbage.status).toBe(400);
    expect(await errorCode(garbage)).toBe('BLOB_UPLOAD_INVALID');
    const inverted = await patch('10-5', Buffer.from('x'));
    expect(inverted.status).toBe(416);
    const notFromZero = await patch('1-1', Buffer.from('x'));
    expect(notFromZero.status).toBe(416);
    // The range claims 100 bytes but 10 are sent.
    const mismatch = await patch('0-99', Buffer.alloc(10));
    expect(mismatch.status).toBe(400);
    expect(await errorCode(mismatch)).toBe('SIZE_INVALID');
    expect(await uploadedBytes(location)).toBe('0-0');
  });

  it('keeps upload sessions private to their repository', async () => {
    const location = await startUpload('bad/owner');
    const stolen = location.replace('/v2/bad/owner/', '/v2/bad/thief/');
    const res = await fetch(`${base}${stolen}`, { method: 'PATCH', body: 'x' });
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('BLOB_UPLOAD_UNKNOWN');
    const bogus = await fetch(`${base}/v2/bad/owner/blobs/uploads/not-a-uuid`);
    expect(bogus.status).toBe(404);
    expect(await errorCode(bogus)).toBe('BLOB_UPLOAD_UNKNOWN');
  });
});

describe('names and references', () => {
  it('refuses invalid repository names with NAME_INVALID, including traversal attempts', async () => {
    const paths = [
      '/v2/../etc/manifests/latest',
      '/v2/foo/../../x/manifests/latest',
      '/v2/%2e%2e/foo/manifests/latest',
      '/v2/Upper/case/manifests/latest',
      '/v2/a//b/manifests/latest',
      '/v2/-lead/manifests/latest',
      '/v2/trail-/manifests/latest',
      '/v2/a..b/manifests/latest',
      `/v2/${'a'.repeat(256)}/manifests/latest`,
    ];
    for (const path of paths) {
      for (const method of ['GET', 'PUT', 'POST'] as const) {
        const p = method === 'POST' ? path.replace('/manifests/latest', '/blobs/uploads/') : path;
        const res = await rawRequest(
          base,
          method,
          p,
          { 'content-type': 'application/octet-stream' },
          Buffer.from('{}'),
        );
        expect([400, 404], `${method} ${p}`).toContain(res.status);
        const code = JSON.parse(res.body).errors?.[0]?.code ?? res.body;
        expect(['NAME_INVALID', 'UNSUPPORTED'], `${method} ${p}`).toContain(code);
        if (res.status === 400) expect(code).toBe('NAME_INVALID');
      }
    }
    // Malformed percent-encoding is refused by the router itself, before any registry code runs.
    expect((await rawRequest(base, 'GET', '/v2/bad%zz/manifests/latest')).status).toBe(400);
    const long = await rawRequest(base, 'GET', `/v2/${'a'.repeat(256)}/manifests/latest`);
    expect(JSON.parse(long.body).errors[0].detail.limit).toBe(255);
    // Nothing was created for any of them.
    const catalog = await json(await fetch(`${base}/v2/_catalog`));
    expect(catalog.repositories.filter((r: string) => !r.startsWith('bad/'))).toEqual([]);
  });

  it('refuses invalid tags', async () => {
    for (const tag of ['t'.repeat(129), '.dot', '-dash']) {
      const res = await fetch(`${base}/v2/bad/tags/manifests/${tag}`);
      expect(res.status, tag).toBe(400);
      expect(await errorCode(res)).toBe('MANIFEST_INVALID');
    }
  });
});

describe('manifests', () => {
  const repo = 'bad/manifests';
  let config: string;

  beforeAll(async () => {
    config = await pushBlob(base, repo, EMPTY_CONFIG);
  });

  async function expectNotStored(tag: string, body: Buffer) {
    expect((await fetch(`${base}/v2/${repo}/manifests/${tag}`)).status).toBe(404);
    expect((await fetch(`${base}/v2/${repo}/manifests/${sha256(body)}`)).status).toBe(404);
  }

  it(`refuses manifests over ${MAX_MANIFEST_BYTES} bytes with 413 naming the limit`, async () => {
    const big = imageManifest({ digest: config, size: 2 }, [], {
      annotations: { pad: 'x'.repeat(MAX_MANIFEST_BYTES) },
    });
    const res = await putManifest(base, repo, 'big', big);
    expect(res.status).toBe(413);
    const body = await json(res);
    expect(body.errors[0].code).toBe('SIZE_INVALID');
    expect(body.errors[0].detail.limit).toBe(MAX_MANIFEST_BYTES);
    expect(body.errors[0].message).toContain(String(MAX_MANIFEST_BYTES));
    await expectNotStored('big', big);
    // Without a Content-Length (chunked transfer) the limit is enforced while reading.
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(big);
        c.close();
      },
    });
    const chunked = await fetch(`${base}/v2/${repo}/manifests/big2`, {
      method: 'PUT',
      body: stream,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('refuses unknown and mismatched media types with MANIFEST_INVALID', async () => {
    const m = imageManifest({ digest: config, size: 2 }, []);
    const unknown = await putManifest(base, repo, 'u1', m, 'application/vnd.example.thing+json');
    expect(unknown.status).toBe(400);
    expect(await errorCode(unknown)).toBe('MANIFEST_INVALID');
    const schema1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }));
    const s1 = await putManifest(
      base,
      repo,
      'u2',
      schema1,
      'application/vnd.docker.distribution.manifest.v1+prettyjws',
    );
    expect(s1.status).toBe(400);
    expect(await errorCode(s1)).toBe('MANIFEST_INVALID');
    const mismatch = await putManifest(base, repo, 'u3', m, 'application/vnd.oci.image.index.v1+json');
    expect(mismatch.status).toBe(400);
    expect((await json(mismatch)).errors[0].message).toMatch(/does not match/);
    await expectNotStored('u1', m);
  });

  it('refuses malformed manifests with MANIFEST_INVALID', async () => {
    const cases: [string, string][] = [
      ['not json', '{"schemaVersion":'],
      [
        'no config',
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          layers: [],
        }),
      ],
      [
        'bad layer digest',
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'a/b', digest: config, size: 2 },
          layers: [{ mediaType: 'a/b', digest: 'sha256:12', size: 1 }],
        }),
      ],
      [
        'negative size',
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'a/b', digest: config, size: -1 },
          layers: [],
        }),
      ],
      [
        'schemaVersion 3',
        JSON.stringify({ schemaVersion: 3, mediaType: 'application/vnd.oci.image.manifest.v1+json' }),
      ],
    ];
    for (const [what, body] of cases) {
      const res = await putManifest(base, repo, 'malformed', Buffer.from(body));
      expect(res.status, what).toBe(400);
      expect(await errorCode(res), what).toBe('MANIFEST_INVALID');
    }
  });

  it('refuses a manifest whose blobs are not in the repository (MANIFEST_BLOB_UNKNOWN) and stores nothing', async () => {
    const missingLayer = sha256('never pushed');
    const elsewhere = await pushBlob(base, 'bad/other-repo', Buffer.from('in another repo'));
    const m = imageManifest({ digest: config, size: 2 }, [
      { digest: missingLayer, size: 12 },
      { digest: elsewhere, size: 15 },
    ]);
    const res = await putManifest(base, repo, 'missing', m);
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(body.errors[0].detail.missing.map((x: { digest: string }) => x.digest)).toEqual([
      missingLayer,
      elsewhere,
    ]);
    await expectNotStored('missing', m);
    const tags = await json(await fetch(`${base}/v2/${repo}/tags/list`));
    expect(tags.tags).not.toContain('missing');
  });

  it('refuses a push by digest whose content has another digest', async () => {
    const m = imageManifest({ digest: config, size: 2 }, []);
    const res = await putManifest(base, repo, sha256('something else'), m);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('DIGEST_INVALID');
    await expectNotStored('x', m);
  });

  it('leaves no upload sessions behind from finished or failed pushes', async () => {
    // Sessions created explicitly by tests above and never closed are the only ones allowed to remain.
    const files = await listFiles(uploadsDir());
    const sessions = new Set(files.map((f) => f.slice(uploadsDir().length + 1).split('/')[0]));
    expect(sessions.size).toBeLessThanOrEqual(5);
  });
});
