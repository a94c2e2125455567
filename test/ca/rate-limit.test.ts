// Per-client rate limits on the CA's signing routes and the CI issuer's token and run requests (#15.9): past the
// limit a client gets 429 with Retry-After and a message naming the limit, before any token is verified or
// certificate made; ca-config.json sets or turns off the CA's limit and refuses a malformed one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIGNING_RATE_LIMIT, parseCaConfig } from '../../src/ca/index.js';
import { CiIssuer, registerOidcRoutes } from '../../src/oidc/index.js';
import { lateUrl, type RunningServer, startServer } from '../../src/server/index.js';
import { devToken, type RunningCa, requestCert, startCa } from './helpers.js';

describe('CA signing rate limit', () => {
  let ca: RunningCa;
  beforeAll(async () => {
    ca = await startCa({ config: { rateLimit: { perMinute: 6, burst: 3 } } });
  });
  afterAll(async () => {
    await ca?.stop();
  });

  it('answers a client past its limit 429 with Retry-After, before checking its token', async () => {
    const token = await devToken(ca.url);
    for (let i = 0; i < 3; i++) expect((await requestCert(ca.url, token)).status).toBe(200);
    for (const tok of [token, 'not even a token']) {
      const res = await requestCert(ca.url, tok);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const body = (await res.json()) as { code: number; message: string };
      expect(body.code).toBe(429);
      expect(body.message).toMatch(
        /too many signing requests from 127\.0\.0\.1: the limit is 6 a minute \(3 at once\)/,
      );
    }
  });

  it('ca-config.json: a default limit, off with false, a malformed one refused', () => {
    expect(parseCaConfig({}).rateLimit).toEqual(DEFAULT_SIGNING_RATE_LIMIT);
    expect(parseCaConfig({ rateLimit: false }).rateLimit).toBe(false);
    expect(parseCaConfig({ rateLimit: { burst: 5 } }).rateLimit).toEqual({
      ...DEFAULT_SIGNING_RATE_LIMIT,
      burst: 5,
    });
    expect(() => parseCaConfig({ rateLimit: { perMinute: -1 } })).toThrow(/perMinute must be > 0/);
  });
});

describe('CI issuer rate limit', () => {
  let server: RunningServer;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sigil-oidc-limit-'));
    const url = lateUrl();
    const issuer = await CiIssuer.open(dataDir, url.get);
    server = await startServer(
      [
        {
          name: 'oidc',
          register: (app) => registerOidcRoutes(app, issuer, { perMinute: 6, burst: 2 }),
          async close() {},
        },
      ],
      { logLevel: 'silent', onUrl: url.set },
    );
  });
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('token and run requests past the limit get 429 with Retry-After, whatever their secret', async () => {
    const token = (secret: string) =>
      fetch(`${server.url}/oidc/token?api-version=2.0`, { headers: { authorization: `bearer ${secret}` } });
    expect((await token('sigil_runner_guess1')).status).toBe(401);
    expect((await token('sigil_runner_guess2')).status).toBe(401);
    const res = await token('sigil_runner_guess3');
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await res.json()) as { message: string }).message).toContain(
      'the limit is 6 a minute (2 at once)',
    );
    const run = await fetch(`${server.url}/oidc/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'bearer sigil_runner_guess4' },
      body: '{}',
    });
    expect(run.status).toBe(429);
  });
});
