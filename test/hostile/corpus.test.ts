// The hostile-input corpus (issue #15): over a thousand and a half malformed requests, generated from tables
// (hostile/*-cases.ts), sent to one real `sigil up` (a child process on loopback, port 0, fresh data dir). Every
// case must get a 4xx with a message (JSON {message} from the log, CA and issuer; the distribution-spec error
// format from the registry): never a 5xx, a hang (each request has a time limit) or a dropped connection. After
// each surface's cases the stack must still be healthy and do that surface's real work.
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashedRekord, newKey } from '../log/helpers.js';
import { caCases } from './ca-cases.js';
import { logCases } from './log-cases.js';
import { oidcCases } from './oidc-cases.js';
import {
  addRunner,
  idToken,
  jsonMessage4xx,
  runCorpus,
  send,
  spreadClients,
  startUp,
  type Up,
} from './stack.js';

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

// The cases need a real runner secret and identity token (the count does not depend on their values).
const DUMMY_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
const caCount = caCases(DUMMY_TOKEN, 'x').length;
describe('certificate authority and CT log', () => {
  it(`answers ${caCount} hostile requests with a 4xx and a JSON message`, async () => {
    const secret = await addRunner(up, 'ca-corpus');
    const token = await idToken(up.url, secret);
    const sub = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub as string;
    const cases = caCases(token, sub);
    expect(cases.length).toBe(caCount);
    // The signing routes limit each client (200 at once): the cases come from many loopback addresses.
    const failures = await runCorpus(up.url, spreadClients(cases, 100, 20), jsonMessage4xx);
    expect(failures, `${failures.length} of ${cases.length} cases failed:\n${failures.join('\n')}`).toEqual(
      [],
    );
    await healthy();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ok = await send(up.url, {
      method: 'POST',
      path: '/api/v2/signingCert',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        credentials: { oidcIdentityToken: token },
        publicKeyRequest: {
          publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) },
          proofOfPossession: sign('sha256', Buffer.from(sub), privateKey).toString('base64'),
        },
      }),
    });
    // Fulcio's v2 answers a certificate with 200.
    expect(ok.status, ok.body.slice(0, 200)).toBe(200);
    expect(JSON.parse(ok.body).signedCertificateEmbeddedSct.chain.certificates).toHaveLength(3);
  });
});

const oidcCount = oidcCases('s'.repeat(43)).length;
describe('CI identity issuer', () => {
  it(`answers ${oidcCount} hostile requests with a 4xx and a JSON message`, async () => {
    const secret = await addRunner(up, 'oidc-corpus');
    const cases = oidcCases(secret);
    expect(cases.length).toBe(oidcCount);
    // Token and run requests are limited per client (200 at once): the cases come from many loopback addresses.
    const failures = await runCorpus(up.url, spreadClients(cases, 100, 40), jsonMessage4xx);
    expect(failures, `${failures.length} of ${cases.length} cases failed:\n${failures.join('\n')}`).toEqual(
      [],
    );
    await healthy();
    expect((await idToken(up.url, secret)).split('.')).toHaveLength(3);
  });
});
