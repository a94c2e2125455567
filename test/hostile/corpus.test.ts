// The hostile-input corpus (issue #15): over a thousand and a half malformed requests, generated from tables
// (hostile/*-cases.ts), sent to one real `sigil up` (a child process on loopback, port 0, fresh data dir). Every
// case must get a 4xx with a message (JSON {message} from the log, CA and issuer; the distribution-spec error
// format from the registry): never a 5xx, a hang (each request has a time limit) or a dropped connection. After
// each surface's cases the stack must still be healthy and do that surface's real work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashedRekord, newKey } from '../log/helpers.js';
import { logCases } from './log-cases.js';
import { jsonMessage4xx, runCorpus, send, startUp, type Up } from './stack.js';

let up: Up;
beforeAll(async () => {
  up = await startUp();
});
afterAll(async () => {
  await up?.stop();
});

async function healthy(): Promise<void> {
  const h = await send(up.url, { method: 'GET', path: '/healthz' });
  expect(h.status, h.error ?? h.body).toBe(200);
}

const log = logCases();
describe('transparency log', () => {
  it(`answers ${log.length} hostile requests with a 4xx and a JSON message`, async () => {
    const failures = await runCorpus(up.url, log, jsonMessage4xx);
    expect(failures, `${failures.length} of ${log.length} cases failed:\n${failures.join('\n')}`).toEqual([]);
    await healthy();
    const ok = await send(up.url, {
      method: 'POST',
      path: '/api/v1/log/entries',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hashedRekord(Buffer.from('after the corpus'), newKey())),
    });
    expect(ok.status, ok.body).toBe(201);
  });
});
