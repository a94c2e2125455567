// Bad input gets a distribution-spec error code and status in the spec's error format, and leaves nothing
// half-written: wrong digests, truncated uploads, bad or non-contiguous Content-Range (416), invalid names and
// references (also those the router refuses before any registry code runs), unknown methods, oversize manifests
// (413 that reaches a client still sending), unknown or mismatched media types, manifests pointing at missing blobs.
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
  streamingRequest,
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
    // The server may still be winding the dropped PATCH down (the session busy: 400) on a loaded machine: the
    // rest of the blob is sent again until the session takes it, for at most 10 s.
    const putRest = () =>
      fetch(`${base}${location}?digest=${sha256(data)}`, {
        method: 'PUT',
        body: data.subarray(100_000),
        headers: { 'content-range': '100000-199999' },
      });
    let rest = await putRest();
    for (let i = 0; i < 100 && rest.status === 400; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rest = await putRest();
    }
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

  it('answers malformed and non-contiguous Content-Range with 416 in the error format', async () => {
    const location = await startUpload('bad/range');
    const patch = (range: string, body: Buffer) =>
      fetch(`${base}${location}`, { method: 'PATCH', body, headers: { 'content-range': range } });
    for (const range of [
      'bytes=abc',
      '5',
      '-5',
      '0-',
      'a-b',
      '0-1-2',
      `0-${'9'.repeat(20)}`,
      '10-5',
      '1-1',
    ]) {
      const res = await patch(range, Buffer.from('x'));
      expect(res.status, range).toBe(416);
      expect(await errorCode(res), range).toBe('BLOB_UPLOAD_INVALID');
    }
    // The range claims 100 bytes but 10 are sent.
    const mismatch = await patch('0-99', Buffer.alloc(10));
    expect(mismatch.status).toBe(400);
    expect(await errorCode(mismatch)).toBe('SIZE_INVALID');
    expect(await uploadedBytes(location)).toBe('0-0');
    // After 10 bytes, a chunk must start at 10: a gap or an overlap is out of order.
    expect((await patch('0-9', Buffer.alloc(10))).status).toBe(202);
    for (const range of ['20-29', '5-14', '0-9']) {
      const res = await patch(range, Buffer.alloc(10));
      expect(res.status, range).toBe(416);
      expect((await json(res)).errors[0].detail.expectedStart).toBe(10);
    }
    // The closing PUT checks its range the same way.
    const put = await fetch(`${base}${location}?digest=${sha256(Buffer.alloc(20))}`, {
      method: 'PUT',
      body: Buffer.alloc(10),
      headers: { 'content-range': 'ten-nineteen' },
    });
    expect(put.status).toBe(416);
    expect(await uploadedBytes(location)).toBe('0-9');
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
  it('refuses invalid repository names with 400 NAME_INVALID in the error format, including traversal attempts', async () => {
    const paths = [
      '/v2/../etc/manifests/latest',
      '/v2/foo/../../x/manifests/latest',
      '/v2/%2e%2e/foo/manifests/latest',
      '/v2/foo/%2E%2E/manifests/latest',
      '/v2/..%2fetc/manifests/latest',
      '/v2/a\\b/manifests/latest',
      '/v2/a%5cb/manifests/latest',
      '/v2/Upper/case/manifests/latest',
      '/v2/a//b/manifests/latest',
      '/v2//a/manifests/latest',
      '/v2/-lead/manifests/latest',
      '/v2/trail-/manifests/latest',
      '/v2/a..b/manifests/latest',
      '/v2/a%00b/manifests/latest',
      '/v2/bad%zz/manifests/latest',
      '/v2/bad%/manifests/latest',
      `/v2/${'a'.repeat(256)}/manifests/latest`,
      `/v2/${'a/'.repeat(3000)}b/manifests/latest`,
    ];
    for (const path of paths) {
      for (const method of ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'] as const) {
        const p = method === 'POST' ? path.replace('/manifests/latest', '/blobs/uploads/') : path;
        const res = await rawRequest(
          base,
          method,
          p,
          { 'content-type': 'application/octet-stream' },
          Buffer.from('{}'),
        );
        expect(res.status, `${method} ${p}`).toBe(400);
        expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
        if (method === 'HEAD') continue;
        expect(JSON.parse(res.body).errors[0].code, `${method} ${p}`).toBe('NAME_INVALID');
      }
    }
    const long = await rawRequest(base, 'GET', `/v2/${'a'.repeat(256)}/manifests/latest`);
    expect(JSON.parse(long.body).errors[0].detail.limit).toBe(255);
    // Nothing was created for any of them.
    const catalog = await json(await fetch(`${base}/v2/_catalog`));
    expect(catalog.repositories.filter((r: string) => !r.startsWith('bad/'))).toEqual([]);
  });

  it('blames a malformed escape on the part it is in', async () => {
    const cases: [string, number, string][] = [
      ['/v2/ok/manifests/bad%zz', 400, 'MANIFEST_INVALID'],
      ['/v2/ok/blobs/sha256:%zz', 400, 'DIGEST_INVALID'],
      ['/v2/ok/referrers/sha256:%', 400, 'DIGEST_INVALID'],
      ['/v2/ok/blobs/uploads/%zz', 404, 'BLOB_UPLOAD_UNKNOWN'],
    ];
    for (const [path, status, code] of cases) {
      const res = await rawRequest(base, 'GET', path);
      expect(res.status, path).toBe(status);
      expect(JSON.parse(res.body).errors[0].code, path).toBe(code);
    }
  });

  it('answers paths that name no endpoint with 404 NAME_UNKNOWN, and unknown methods with 405', async () => {
    for (const path of [
      '/v2/ok/nothing',
      '/v2/ok/manifests/latest/',
      '/v2/ok/blobs',
      '/v2/..',
      '/v2/%2e%2e',
    ]) {
      const res = await rawRequest(base, 'GET', path);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body).errors[0].code, path).toBe('NAME_UNKNOWN');
    }
    for (const method of ['OPTIONS', 'TRACE', 'PROPFIND', 'LOCK']) {
      for (const path of ['/v2/ok/manifests/latest', '/v2/', '/v2', '/v2/token']) {
        const res = await rawRequest(base, method, path);
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(JSON.parse(res.body).errors[0].code).toBe('UNSUPPORTED');
      }
    }
  });

  it('refuses to push invalid tags (400), and finds nothing at them (404)', async () => {
    for (const tag of ['t'.repeat(129), '.dot', '-dash', '.INVALID_MANIFEST_NAME']) {
      const put = await putManifest(base, 'bad/tags', tag, Buffer.from('{}'));
      expect(put.status, tag).toBe(400);
      expect(await errorCode(put)).toBe('MANIFEST_INVALID');
      // What the v1.1 conformance suite asks: a GET of a nonexistent (here: impossible) tag is 404.
      for (const method of ['GET', 'DELETE']) {
        const res = await fetch(`${base}/v2/bad/tags/manifests/${tag}`, { method });
        expect(res.status, `${method} ${tag}`).toBe(404);
        expect(await errorCode(res)).toBe('MANIFEST_UNKNOWN');
      }
      expect((await fetch(`${base}/v2/bad/tags/manifests/${tag}`, { method: 'HEAD' })).status).toBe(404);
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

  it('gets the 413 to a client still sending a large manifest, with Content-Length and chunked', async () => {
    const url = `/v2/${repo}/manifests/huge`;
    const headers = { 'content-type': 'application/vnd.oci.image.manifest.v1+json' };
    const MiB = 1024 * 1024;
    const exchanges = {
      // 64 MiB announced, 1 MiB sent, then the client waits: refused without reading the rest.
      declared: await streamingRequest(base, 'PUT', url, headers, { total: 64 * MiB, pauseAfter: MiB }),
      // A client that reads nothing before its whole 8 MiB body is out: the rest is read and discarded.
      patient: await streamingRequest(base, 'PUT', url, headers, { total: 8 * MiB, writeThenRead: true }),
      // No length: cut off just past the limit, while the client keeps writing.
      chunked: await streamingRequest(base, 'PUT', url, headers, { total: 64 * MiB, chunked: true }),
      chunkedPatient: await streamingRequest(base, 'PUT', url, headers, {
        total: 8 * MiB,
        chunked: true,
        writeThenRead: true,
      }),
    };
    for (const [what, r] of Object.entries(exchanges)) {
      expect(r.status, `${what}: ${r.ended}`).toBe(413);
      expect(r.ended, what).toBe('close');
      expect(r.headers.connection, what).toBe('close');
      const body = JSON.parse(r.body);
      expect(body.errors[0].code, what).toBe('SIZE_INVALID');
      expect(body.errors[0].message, what).toContain(String(MAX_MANIFEST_BYTES));
    }
    expect(exchanges.declared.sent).toBe(MiB);
    expect(exchanges.chunked.sent).toBeLessThan(64 * MiB);
    expect((await fetch(`${base}${url}`)).status).toBe(404);
    // The server is fine afterwards.
    expect((await fetch(`${base}/v2/`)).status).toBe(200);
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
    // The spec: a manifest with a mediaType MUST be sent with exactly that Content-Type; a generic one or none
    // would let the manifest be served under a type its body contradicts.
    for (const type of ['application/json', 'application/octet-stream', 'text/plain', '']) {
      const res = await fetch(`${base}/v2/${repo}/manifests/u4`, {
        method: 'PUT',
        body: m,
        headers: type ? { 'content-type': type } : {},
      });
      expect(res.status, type).toBe(400);
      const body = await json(res);
      expect(body.errors[0].code, type).toBe('MANIFEST_INVALID');
      expect(body.errors[0].message, type).toMatch(/does not match/);
    }
    await expectNotStored('u1', m);
    await expectNotStored('u4', m);
    // Parameters are ignored (spec: "The registry SHOULD ignore parameters on the Content-Type header").
    const withCharset = await putManifest(
      base,
      repo,
      'u5',
      imageManifest({ digest: config, size: 2 }, [], { annotations: { case: 'charset' } }),
      'application/vnd.oci.image.manifest.v1+json; charset=utf-8',
    );
    expect(withCharset.status).toBe(201);
    // Without a mediaType in the body, the Content-Type says what it is.
    const { mediaType: _omitted, ...untyped } = JSON.parse(m.toString());
    const bare = Buffer.from(JSON.stringify(untyped));
    expect((await putManifest(base, repo, 'u6', bare)).status).toBe(201);
    expect((await putManifest(base, repo, 'u7', bare, 'application/json')).status).toBe(400);
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
