// The shared HTTP server: services register routes, learn their URL after listen, and close in reverse order.
import { describe, expect, it } from 'vitest';
import { type Service, startServer } from '../../src/server/index.js';

function recordingService(name: string, events: string[]): Service {
  return {
    name,
    async register(app) {
      app.get(`/${name}`, async () => ({ name }));
    },
    async started(url) {
      events.push(`${name} started at ${url}`);
    },
    async close() {
      events.push(`${name} closed`);
    },
  };
}

describe('startServer', () => {
  it('serves each service, reports health, and closes services in reverse order', async () => {
    const events: string[] = [];
    const server = await startServer([recordingService('a', events), recordingService('b', events)], {
      logLevel: 'silent',
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', services: ['a', 'b'] });
    expect(await (await fetch(`${server.url}/b`)).json()).toEqual({ name: 'b' });
    await server.close();
    expect(events).toEqual([
      `a started at ${server.url}`,
      `b started at ${server.url}`,
      'b closed',
      'a closed',
    ]);
  });
});
