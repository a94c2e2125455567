// A request body over the limit gets a 413 the client can read, on the log's entry route and the CA's signing
// routes, whether the body is announced with Content-Length or chunked, and whether the client is still writing
// when the answer comes (docker, Go's net/http) or reads only once its whole body is out (simple clients). A server
// that closed the socket with the client's bytes unread would make the kernel send a reset and the client would
// see ECONNRESET instead of the answer. Runs against one `sigil up` child process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_BODY_LIMIT } from '../../src/log/index.js';
import { type StreamedExchange, streamingRequest } from '../registry/helpers.js';
import { send, startUp, type Up } from './stack.js';

let up: Up;
beforeAll(async () => {
  up = await startUp();
});
afterAll(async () => {
  await up?.stop();
});

const MiB = 1024 * 1024;
/** The CA's limit on a signing request (src/ca/http.ts). */
const SIGNING_BODY_LIMIT = 64 * 1024;

async function exchanges(path: string): Promise<Record<string, StreamedExchange>> {
  const headers = { 'content-type': 'application/json' };
  return {
    // 64 MiB announced, 2 MiB sent, then the client only waits: refused without reading the rest.
    declared: await streamingRequest(up.url, 'POST', path, headers, { total: 64 * MiB, pauseAfter: 2 * MiB }),
    // A client that reads nothing before its whole 4 MiB body is out (well past both limits; small enough to be
    // written within the server's 2 s linger on a loaded machine).
    patient: await streamingRequest(up.url, 'POST', path, headers, { total: 4 * MiB, writeThenRead: true }),
    // No length, and the client keeps writing 64 MiB while the answer comes.
    chunked: await streamingRequest(up.url, 'POST', path, headers, { total: 64 * MiB, chunked: true }),
    chunkedPatient: await streamingRequest(up.url, 'POST', path, headers, {
      total: 4 * MiB,
      chunked: true,
      writeThenRead: true,
    }),
  };
}

function expectReadable413(all: Record<string, StreamedExchange>, limit: number) {
  for (const [what, r] of Object.entries(all)) {
    expect(r.status, `${what}: ended ${r.ended}, sent ${r.sent}, got ${r.body.slice(0, 200)}`).toBe(413);
    const body = JSON.parse(r.body) as { message?: string };
    expect(body.message, what).toContain(String(limit));
  }
}

describe('oversize bodies', () => {
  it(`log entries: a readable 413 naming the ${ENTRY_BODY_LIMIT}-byte limit`, async () => {
    expectReadable413(await exchanges('/api/v1/log/entries'), ENTRY_BODY_LIMIT);
    expect((await send(up.url, { method: 'GET', path: '/healthz' })).status).toBe(200);
  });

  for (const path of ['/api/v2/signingCert', '/api/v1/signingCert']) {
    it(`CA ${path}: a readable 413 naming the ${SIGNING_BODY_LIMIT}-byte limit`, async () => {
      expectReadable413(await exchanges(path), SIGNING_BODY_LIMIT);
      expect((await send(up.url, { method: 'GET', path: '/healthz' })).status).toBe(200);
    });
  }
});
