// The registry shares one fastify instance with other services under `sigil up`: its catch-all body parser and
// error handler stay inside its own scope (/v2), so a neighbour's JSON routes, 404s and malformed URLs behave as
// usual.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/server/index.js';
import { json, pushImage, rawRequest, startRegistry, type TestRegistry } from './helpers.js';

const neighbour: Service = {
  name: 'neighbour',
  async register(app) {
    app.post('/api/v1/echo', async (req) => ({ got: req.body }));
  },
  async close() {},
};

let reg: TestRegistry;

beforeAll(async () => {
  reg = await startRegistry({ anonymousPush: true }, undefined, [neighbour]);
});
afterAll(async () => {
  await reg.stop();
});

describe('registry on a shared server', () => {
  it('leaves other services’ JSON parsing and 404s alone', async () => {
    const res = await fetch(`${reg.url}/api/v1/echo`, {
      method: 'POST',
      body: JSON.stringify({ a: 1 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ got: { a: 1 } });
    const bad = await fetch(`${reg.url}/api/v1/echo`, {
      method: 'POST',
      body: '{oops',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    const missing = await fetch(`${reg.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect((await json(missing)).errors).toBeUndefined();
    // The registry answers the router's refusals (and unknown methods, and /v2x) only on its own paths.
    const malformed = await rawRequest(reg.url, 'GET', '/api/v1/echo%zz');
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body)).toMatchObject({ code: 'FST_ERR_BAD_URL', statusCode: 400 });
    const ours = await rawRequest(reg.url, 'GET', '/v2/echo%zz/tags/list');
    expect(JSON.parse(ours.body).errors[0].code).toBe('NAME_INVALID');
    for (const [method, path] of [
      ['OPTIONS', '/api/v1/echo'],
      ['GET', '/v2x/tags/list'],
    ]) {
      const other = await rawRequest(reg.url, method, path);
      expect(other.status, `${method} ${path}`).toBe(404);
      expect(JSON.parse(other.body).errors, `${method} ${path}`).toBeUndefined();
    }
  });

  it('still stores manifests byte for byte and reports health for both', async () => {
    const img = await pushImage(reg.url, 'shared/app', 'v1');
    const got = await fetch(`${reg.url}/v2/shared/app/manifests/v1`);
    expect(Buffer.from(await got.arrayBuffer()).equals(img.manifest)).toBe(true);
    expect(await json(await fetch(`${reg.url}/healthz`))).toEqual({
      status: 'ok',
      services: ['neighbour', 'registry'],
    });
  });
});
