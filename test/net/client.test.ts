// The CLI's node:http client against real HTTP servers on loopback: bodies (buffer, string, stream with and
// without a length), headers, redirects (method rewriting, body resending, Authorization dropped across
// origins, the limit), errors (refused, timed out before and during the body, aborted), keep-alive reuse,
// content-encoding, and the OCI client following a blob redirect to storage without its credentials.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRequestError, MAX_REDIRECTS, request } from '../../src/net/index.js';
import { RegistryClient } from '../../src/oci/index.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  remotePort: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

async function serve(handler: Handler): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const s: Seen = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(parts).toString('utf8'),
      remotePort: req.socket.remotePort ?? 0,
    };
    seen.push(s);
    handler(req, res, s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

let a: Awaited<ReturnType<typeof serve>>;
let b: Awaited<ReturnType<typeof serve>>;

/** Server A: routes by path. Server B (another origin): echoes what it got. */
const routesA: Handler = (_req, res, s) => {
  const path = new URL(s.url, 'http://x').pathname;
  const q = new URL(s.url, 'http://x').searchParams;
  switch (path) {
    case '/echo':
      res.setHeader('x-multi', ['one', 'two']);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: s.method, body: s.body, headers: s.headers }));
      return;
    case '/redirect': {
      res.statusCode = Number(q.get('status') ?? 307);
      res.setHeader('location', q.get('to') ?? '/echo');
      res.end('moved');
      return;
    }
    case '/loop':
      res.statusCode = 302;
      res.setHeader('location', '/loop');
      res.end();
      return;
    case '/silent':
      return; // never answers
    case '/stall': // headers and part of the body, then nothing
      res.setHeader('content-length', '100');
      res.write('partial');
      return;
    case '/gzip':
      res.setHeader('content-encoding', 'gzip');
      res.end(gzipSync('decoded body'));
      return;
    case '/missing':
      res.statusCode = 404;
      res.end('{"message":"no such thing"}');
      return;
    default:
      res.statusCode = 500;
      res.end();
  }
};

beforeAll(async () => {
  a = await serve(routesA);
  b = await serve((_req, res, s) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: s.method, body: s.body, headers: s.headers }));
  });
});
afterAll(async () => {
  for (const s of [a, b]) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});

describe('requests and responses', () => {
  it('sends a JSON body with its length and reads status, url, headers, text and json', async () => {
    const res = await request(`${a.url}/echo`, {
      method: 'post',
      headers: { 'Content-Type': 'application/json', 'X-Test': 'yes' },
      body: '{"a":1}',
    });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.url).toBe(`${a.url}/echo`);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('x-multi')).toBe('one, two');
    expect(res.headers.get('x-absent')).toBeNull();
    const got = await res.json<{ method: string; body: string; headers: Record<string, string> }>();
    expect(got.method).toBe('POST');
    expect(got.body).toBe('{"a":1}');
    expect(got.headers['content-length']).toBe('7');
    expect(got.headers['x-test']).toBe('yes');
  });

  it('streams a body chunked when no length is given, and as is with one', async () => {
    const chunked = await request(`${a.url}/echo`, {
      method: 'PUT',
      body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]),
    });
    const c = (await chunked.json()) as { body: string; headers: Record<string, string> };
    expect(c.body).toBe('abcd');
    expect(c.headers['transfer-encoding']).toBe('chunked');
    const sized = await request(`${a.url}/echo`, {
      method: 'PUT',
      headers: { 'content-length': '4' },
      body: Readable.from([Buffer.from('wxyz')]),
    });
    const s = (await sized.json()) as { body: string; headers: Record<string, string> };
    expect(s.body).toBe('wxyz');
    expect(s.headers['content-length']).toBe('4');
    expect(s.headers['transfer-encoding']).toBeUndefined();
  });

  it('hands back error statuses as responses, and the body as a Node stream', async () => {
    const res = await request(`${a.url}/missing`);
    expect(res.status).toBe(404);
    expect(res.ok).toBe(false);
    expect(res.body).toBeInstanceOf(Readable);
    expect(await res.buffer()).toEqual(Buffer.from('{"message":"no such thing"}'));
  });

  it('decodes a gzip body', async () => {
    expect(await (await request(`${a.url}/gzip`)).text()).toBe('decoded body');
  });

  it('reuses one kept-alive connection for consecutive requests, also after discard()', async () => {
    const before = a.seen.length;
    await (await request(`${a.url}/echo`)).text();
    const discarded = await request(`${a.url}/missing`);
    discarded.discard(); // a small body is drained in the background, then the socket is free again
    await once(discarded.body, 'end');
    await new Promise((r) => setImmediate(r));
    await (await request(`${a.url}/echo`)).text();
    const ports = new Set(a.seen.slice(before).map((s) => s.remotePort));
    expect(ports.size).toBe(1);
  });
});

describe('redirects', () => {
  it('follows 307 resending method and body, keeping Authorization on the same origin', async () => {
    const res = await request(`${a.url}/redirect?status=307&to=/echo`, {
      method: 'PUT',
      headers: { authorization: 'Bearer secret' },
      body: Buffer.from('payload'),
    });
    const got = (await res.json()) as { method: string; body: string; headers: Record<string, string> };
    expect(res.url).toBe(`${a.url}/echo`);
    expect(got).toMatchObject({ method: 'PUT', body: 'payload' });
    expect(got.headers.authorization).toBe('Bearer secret');
  });

  it('drops Authorization and cookies when a redirect leaves the origin', async () => {
    const to = encodeURIComponent(`${b.url}/storage`);
    const res = await request(`${a.url}/redirect?status=307&to=${to}`, {
      headers: { authorization: 'Bearer secret', cookie: 'c=1', 'x-keep': 'kept' },
    });
    const got = (await res.json()) as { headers: Record<string, string> };
    expect(res.url).toBe(`${b.url}/storage`);
    expect(got.headers.authorization).toBeUndefined();
    expect(got.headers.cookie).toBeUndefined();
    expect(got.headers['x-keep']).toBe('kept');
  });

  it('turns a POST into a bodiless GET on 303 and 302', async () => {
    for (const status of [303, 302]) {
      const res = await request(`${a.url}/redirect?status=${status}&to=/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"x":1}',
      });
      const got = (await res.json()) as { method: string; body: string; headers: Record<string, string> };
      expect(got.method).toBe('GET');
      expect(got.body).toBe('');
      expect(got.headers['content-type']).toBeUndefined();
    }
  });

  it('hands back the 3xx itself when redirect is manual', async () => {
    const res = await request(`${a.url}/redirect?status=307&to=/echo`, { redirect: 'manual' });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('/echo');
    expect(await res.text()).toBe('moved');
  });

  it(`stops after ${MAX_REDIRECTS} redirects`, async () => {
    const err = await request(`${a.url}/loop`).catch((e) => e);
    expect(err).toBeInstanceOf(HttpRequestError);
    expect(err.code).toBe('ERR_TOO_MANY_REDIRECTS');
  });

  it('refuses to resend a streamed body on 307, and to follow a non-http Location', async () => {
    const streamed = await request(`${a.url}/redirect?status=307&to=/echo`, {
      method: 'PUT',
      body: Readable.from([Buffer.from('once')]),
    }).catch((e) => e);
    expect(streamed.code).toBe('ERR_BAD_REDIRECT');
    const file = await request(
      `${a.url}/redirect?status=302&to=${encodeURIComponent('file:///etc/passwd')}`,
    ).catch((e) => e);
    expect(file.code).toBe('ERR_BAD_REDIRECT');
  });
});

describe('failures', () => {
  it('says the connection was refused, with the system code', async () => {
    const closed = await serve(() => {});
    const url = closed.url;
    await new Promise((r) => closed.server.close(r));
    const err = await request(`${url}/x`).catch((e) => e);
    expect(err).toBeInstanceOf(HttpRequestError);
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.message).toMatch(/ECONNREFUSED 127\.0\.0\.1/);
  });

  it('times out a server that does not answer, and one that stops mid-body', async () => {
    const t = Date.now();
    const silent = await request(`${a.url}/silent`, { timeoutMs: 200 }).catch((e) => e);
    expect(silent.code).toBe('ETIMEDOUT');
    expect(silent.message).toMatch(/did not answer within 200 ms/);
    expect(Date.now() - t).toBeLessThan(2000);
    const res = await request(`${a.url}/stall`, { timeoutMs: 200 });
    expect(res.status).toBe(200);
    const stalled = await res.text().catch((e) => e);
    expect(stalled.code).toBe('ETIMEDOUT');
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = request(`${a.url}/silent`, { signal: controller.signal }).catch((e) => e);
    setTimeout(() => controller.abort(), 50);
    expect((await pending).code).toBe('ABORT_ERR');
  });
});

describe('OCI client over it', () => {
  it('follows a blob redirect to storage on another origin without sending the registry credentials', async () => {
    // A test double of a registry that keeps blobs in object storage (as registries on S3/GCS do): the blob GET
    // answers 307 to a storage URL on another origin; the storage server records what it was sent.
    const blob = Buffer.from('layer bytes stored elsewhere');
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const storage = await serve((_req, res) => res.end(blob));
    const registry = await serve((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
        res.statusCode = 401;
        res.setHeader('www-authenticate', 'Basic realm="test"');
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"log in"}]}');
        return;
      }
      res.statusCode = 307;
      res.setHeader('location', `${storage.url}/bucket/${digest}`);
      res.end();
    });
    try {
      const client = new RegistryClient({
        credentials: { username: 'u', password: 'p' },
        useAuthFiles: false,
      });
      const host = new URL(registry.url).host;
      const ref = { registry: host, repository: 'team/app' };
      expect(await client.getBlobBytes(ref, digest)).toEqual(blob);
      expect(registry.seen.map((s) => s.headers.authorization !== undefined)).toEqual([false, true]);
      expect(storage.seen).toHaveLength(1);
      expect(storage.seen[0].url).toBe(`/bucket/${digest}`);
      expect(storage.seen[0].headers.authorization).toBeUndefined();
    } finally {
      for (const s of [storage, registry]) {
        s.server.closeAllConnections();
        await new Promise((r) => s.server.close(r));
      }
    }
  });
});
