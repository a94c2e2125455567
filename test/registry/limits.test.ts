// Limits against denial of service, each with the request that would get past it without the limit: the token
// endpoint's per-client rate of password checks (429 TOOMANYREQUESTS with Retry-After), the largest blob and the
// per-repository quota (413 DENIED naming the limit), both enforced while the body streams in (monolithic PUT,
// single POST, chunked PATCH, with and without Content-Length), answered to a client that is still sending.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/limits/index.js';
import { addUser, registryRoot } from '../../src/registry/index.js';
import {
  json,
  listFiles,
  pushBlob,
  sha256,
  startRegistry,
  streamingRequest,
  type TestRegistry,
} from './helpers.js';

const MiB = 1024 * 1024;

async function registryWith(config: Record<string, unknown>, anonymousPush = true): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-limits-'));
  await mkdir(join(dir, 'registry'), { recursive: true });
  await writeFile(join(dir, 'registry', 'config.json'), JSON.stringify(config));
  const reg = await startRegistry({ anonymousPush }, dir);
  return {
    ...reg,
    async stop() {
      await reg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function basic(creds: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(creds).toString('base64')}` };
}

describe('token endpoint rate limit', () => {
  let reg: TestRegistry;
  const tokenUrl = () => `${reg.url}/v2/token?scope=repository:team/app:pull,push`;

  beforeAll(async () => {
    reg = await registryWith({ tokenRateLimit: { burst: 3, perMinute: 6 } }, false);
    await addUser(registryRoot(reg.dataDir), 'alice', 'alice-password');
  });
  afterAll(async () => {
    await reg.stop();
  });

  it('answers password checks past the limit with 429 TOOMANYREQUESTS and Retry-After', async () => {
    // One good login (remembered afterwards), two wrong passwords: the burst of 3 is used up.
    expect((await fetch(tokenUrl(), { headers: basic('alice:alice-password') })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      expect((await fetch(tokenUrl(), { headers: basic('alice:guess') })).status).toBe(401);
    }
    // (That the limit is checked before scrypt runs is in the code's order, not timed here: a timing assertion
    // fails on a loaded machine.)
    for (const creds of ['alice:guess', 'mallory:guess']) {
      const res = await fetch(tokenUrl(), { headers: basic(creds) });
      expect(res.status, creds).toBe(429);
      const retry = Number(res.headers.get('retry-after'));
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(10);
      const body = await json(res);
      expect(body.errors[0].code).toBe('TOOMANYREQUESTS');
      expect(body.errors[0].message).toContain('6 a minute');
      expect(body.errors[0].detail.limit).toEqual({ perMinute: 6, burst: 3 });
    }
    // The OAuth2 form is the same check.
    const form = await fetch(`${reg.url}/v2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'guess' }),
    });
    expect(form.status).toBe(429);
  });

  it('still answers a remembered login and anonymous token requests, which run no scrypt', async () => {
    expect((await fetch(tokenUrl(), { headers: basic('alice:alice-password') })).status).toBe(200);
    expect((await fetch(tokenUrl())).status).toBe(200);
  });
});

describe('RateLimiter', () => {
  it('gives each client its burst, refills at the rate, and says how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 30, burst: 2 }, () => now);
    expect([limiter.take('a'), limiter.take('a')]).toEqual([0, 0]);
    // One token every 2 s: an empty bucket waits 2 s, half a token later 1 s.
    expect(limiter.take('a')).toBe(2);
    expect(limiter.take('b')).toBe(0);
    now += 1000;
    expect(limiter.take('a')).toBe(1);
    now += 1000;
    expect(limiter.take('a')).toBe(0);
    // Refilling never goes past the burst.
    now += 3_600_000;
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 2]);
  });
});

describe('maximum blob size', () => {
  const LIMIT = MiB;
  let reg: TestRegistry;

  beforeAll(async () => {
    reg = await registryWith({ maxBlobBytes: LIMIT });
  });
  afterAll(async () => {
    await reg.stop();
  });

  async function session(repo: string): Promise<string> {
    const res = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    expect(res.status).toBe(202);
    return res.headers.get('location')!;
  }

  async function received(location: string): Promise<string | null> {
    return (await fetch(`${reg.url}${location}`)).headers.get('range');
  }

  function expectRefused(r: { status: number; body: string }) {
    expect(r.status).toBe(413);
    const body = JSON.parse(r.body);
    expect(body.errors[0].code).toBe('DENIED');
    expect(body.errors[0].message).toContain(String(LIMIT));
    expect(body.errors[0].detail.limit).toBe(LIMIT);
  }

  it('accepts a blob of exactly the limit (control)', async () => {
    const data = Buffer.alloc(LIMIT, 1);
    expect(await pushBlob(reg.url, 'big/exact', data)).toBe(sha256(data));
  });

  it('refuses a monolithic PUT declaring more, before reading its body', async () => {
    const location = await session('big/declared');
    const digest = sha256('whatever');
    // 64 MiB promised, 256 KiB sent, then the client only waits: the answer must come anyway.
    const r = await streamingRequest(
      reg.url,
      'PUT',
      `${location}?digest=${digest}`,
      { 'content-type': 'application/octet-stream' },
      { total: 64 * MiB, pauseAfter: 256 * 1024 },
    );
    expectRefused(r);
    expect(r.headers.connection).toBe('close');
    expect(await received(location)).toBe('0-0');
    // A client that reads only once it has written its whole (8 MiB) body still gets the answer: the server
    // reads and discards the rest instead of resetting the connection under it.
    const patient = await streamingRequest(
      reg.url,
      'PUT',
      `${location}?digest=${digest}`,
      { 'content-type': 'application/octet-stream' },
      { total: 8 * MiB, writeThenRead: true },
    );
    expect(patient.ended).toBe('close');
    expect(patient.sent).toBe(8 * MiB);
    expectRefused(patient);
  });

  it('refuses a chunked PATCH as soon as it passes the limit, and keeps the session as it was', async () => {
    const location = await session('big/chunked');
    const first = await fetch(`${reg.url}${location}`, { method: 'PATCH', body: Buffer.alloc(512 * 1024) });
    expect(first.status).toBe(202);
    // No Content-Length: 768 KiB more fit, then the client stalls; the limit is crossed at 1 MiB.
    const r = await streamingRequest(
      reg.url,
      'PATCH',
      location,
      { 'content-type': 'application/octet-stream' },
      { total: 64 * MiB, chunked: true, pauseAfter: 2 * MiB },
    );
    expectRefused(r);
    // Rolled back to the bytes before the refused chunk; nothing past the limit stayed on disk.
    expect(await received(location)).toBe(`0-${512 * 1024 - 1}`);
    const id = location.split('/').pop()!;
    expect((await stat(join(reg.dataDir, 'registry', 'uploads', id, 'data'))).size).toBe(512 * 1024);
  });

  it('refuses a chunk with Content-Length that would take the session past the limit', async () => {
    const location = await session('big/second-chunk');
    expect(
      (await fetch(`${reg.url}${location}`, { method: 'PATCH', body: Buffer.alloc(LIMIT - 10) })).status,
    ).toBe(202);
    const res = await fetch(`${reg.url}${location}`, { method: 'PATCH', body: Buffer.alloc(11) });
    expectRefused({ status: res.status, body: await res.text() });
    expect(await received(location)).toBe(`0-${LIMIT - 11}`);
  });

  it('refuses a single-POST upload and a closing PUT that stream past it, to a client still sending', async () => {
    const before = await listFiles(join(reg.dataDir, 'registry', 'blobs'));
    const single = await streamingRequest(
      reg.url,
      'POST',
      `/v2/big/single/blobs/uploads/?digest=${sha256('x')}`,
      { 'content-type': 'application/octet-stream' },
      { total: 32 * MiB, chunked: true },
    );
    expectRefused(single);
    const location = await session('big/put');
    const put = await streamingRequest(
      reg.url,
      'PUT',
      `${location}?digest=${sha256('x')}`,
      { 'content-type': 'application/octet-stream' },
      { total: 32 * MiB, chunked: true },
    );
    expectRefused(put);
    // The client was cut off long before it sent everything.
    expect(put.sent).toBeLessThan(32 * MiB);
    expect(await listFiles(join(reg.dataDir, 'registry', 'blobs'))).toEqual(before);
  });
});

describe('repository quota', () => {
  const QUOTA = MiB;
  const part = (fill: number) => Buffer.alloc(600 * 1024, fill);
  let reg: TestRegistry;

  beforeAll(async () => {
    reg = await registryWith({ repositoryQuotaBytes: QUOTA });
  });
  afterAll(async () => {
    await reg.stop();
  });

  function expectQuota(
    status: number,
    body: { errors: { code: string; message: string; detail: unknown }[] },
  ) {
    expect(status).toBe(413);
    expect(body.errors[0].code).toBe('DENIED');
    expect(body.errors[0].message).toContain(`${QUOTA}-byte quota`);
  }

  it('counts the blobs a repository holds, refuses what would exceed it, and frees what is deleted', async () => {
    const first = await pushBlob(reg.url, 'team/q', part(1));
    const post = await fetch(`${reg.url}/v2/team/q/blobs/uploads/`, { method: 'POST' });
    const location = post.headers.get('location')!;
    const put = await fetch(`${reg.url}${location}?digest=${sha256(part(2))}`, {
      method: 'PUT',
      body: part(2),
    });
    expectQuota(put.status, await json(put));
    // Another repository has its own quota.
    expect(await pushBlob(reg.url, 'team/other', part(2))).toBe(sha256(part(2)));
    // Deleting frees the space.
    expect((await fetch(`${reg.url}/v2/team/q/blobs/${first}`, { method: 'DELETE' })).status).toBe(202);
    expect(await pushBlob(reg.url, 'team/q', part(2))).toBe(sha256(part(2)));
  });

  it("counts the repository's unfinished uploads, and mounts", async () => {
    const post = await fetch(`${reg.url}/v2/team/pending/blobs/uploads/`, { method: 'POST' });
    const location = post.headers.get('location')!;
    expect((await fetch(`${reg.url}${location}`, { method: 'PATCH', body: part(3) })).status).toBe(202);
    // Streamed without a length: cut off at the quota.
    const stream = await streamingRequest(
      reg.url,
      'POST',
      `/v2/team/pending/blobs/uploads/?digest=${sha256('y')}`,
      {},
      { total: 8 * MiB, chunked: true },
    );
    expectQuota(stream.status, JSON.parse(stream.body));
    // team/other holds part(2); mounting it here would pass the quota too.
    const mount = await fetch(
      `${reg.url}/v2/team/pending/blobs/uploads/?mount=${sha256(part(2))}&from=team/other`,
      {
        method: 'POST',
      },
    );
    expectQuota(mount.status, await json(mount));
  });
});

describe('configuration', () => {
  it('refuses a limit that is not a positive integer, or a rate limit without a rate, at start', async () => {
    for (const [config, message] of [
      [{ maxBlobBytes: '10GB' }, /maxBlobBytes must be a positive integer/],
      [{ repositoryQuotaBytes: -1 }, /repositoryQuotaBytes must be a positive integer/],
      [{ tokenRateLimit: { perMinute: 0 } }, /tokenRateLimit: perMinute must be > 0/],
    ] as const) {
      await expect(registryWith(config)).rejects.toThrow(message);
    }
    // null means "no quota", as leaving it out does.
    const reg = await registryWith({ repositoryQuotaBytes: null });
    await reg.stop();
  });
});
