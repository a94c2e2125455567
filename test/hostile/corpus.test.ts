// The hostile-input corpus (issues #15, #14): over a thousand and a half malformed requests, generated from tables
// (hostile/*-cases.ts), sent to one real `sigil up` (a child process on loopback, port 0, fresh data dir). Every
// case must get a 4xx with a message (JSON {message} from the log, CA and issuer; the distribution-spec error
// format from the registry): never a 5xx, a hang (each request has a time limit) or a dropped connection. After
// each surface's cases the stack must still be healthy and do that surface's real work.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashedRekord, newKey } from '../log/helpers.js';
import { caCases } from './ca-cases.js';
import { logCases } from './log-cases.js';
import { oidcCases } from './oidc-cases.js';
import { REPO, registryCases, UPLOAD_SESSIONS } from './registry-cases.js';
import {
  addRunner,
  idToken,
  jsonMessage4xx,
  registryCredentials,
  registryError4xx,
  registryToken,
  runCorpus,
  send,
  spreadClients,
  startUp,
  type Up,
} from './stack.js';
import { v2Cases } from './v2-cases.js';

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

const v2 = v2Cases();
describe('Rekor v2 log and timestamp authority', () => {
  it(`answers ${v2.length} hostile requests with a 4xx and a JSON message`, async () => {
    const failures = await runCorpus(up.url, v2, jsonMessage4xx);
    expect(failures, `${failures.length} of ${v2.length} cases failed:\n${failures.join('\n')}`).toEqual([]);
    await healthy();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const data = Buffer.from('after the v2 corpus');
    const ok = await send(up.url, {
      method: 'POST',
      path: '/api/v2/log/entries',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        hashedRekordRequestV002: {
          digest: createHash('sha256').update(data).digest('base64'),
          signature: {
            content: sign('sha256', data, privateKey).toString('base64'),
            verifier: {
              publicKey: { rawBytes: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') },
              keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            },
          },
        },
      }),
    });
    expect(ok.status, ok.body).toBe(201);
  });
});

// The cases need a real runner secret and identity token (the count does not depend on their values).
const DUMMY_TOKEN = [
  { alg: 'ES256', kid: 'k'.repeat(43), typ: 'JWT' },
  { iss: 'http://127.0.0.1:1', sub: 'repo:acme/hostile:ref:refs/heads/main', aud: 'sigstore' },
]
  .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
  .concat(Buffer.alloc(64, 0xfb).toString('base64url'))
  .join('.');
const caCount = caCases(DUMMY_TOKEN, 'repo:acme/hostile:ref:refs/heads/main').length;
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

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const registryCount = registryCases({
  token: 'x',
  config: { digest: digestOf(Buffer.from('{}')), size: 2 },
  layer: { digest: digestOf(Buffer.from('a layer')), size: 7 },
  sessions: Array(UPLOAD_SESSIONS).fill('/v2/x/blobs/uploads/x'),
}).length;
describe('registry', () => {
  it(`answers ${registryCount} hostile requests with a 4xx in the distribution-spec error format`, async () => {
    const token = await registryToken(up.url, await registryCredentials(up), [
      `repository:${REPO}:pull,push,delete`,
      'registry:catalog:*',
    ]);
    const auth = { authorization: `Bearer ${token}` };
    const push = async (data: Buffer) => {
      const digest = digestOf(data);
      const r = await send(up.url, {
        method: 'POST',
        path: `/v2/${REPO}/blobs/uploads/?digest=${digest}`,
        headers: { ...auth, 'content-type': 'application/octet-stream' },
        body: data,
      });
      expect(r.status, r.body).toBe(201);
      return { digest, size: data.length };
    };
    const config = await push(Buffer.from('{}'));
    const layer = await push(Buffer.from('a layer'));
    const sessions: string[] = [];
    for (let i = 0; i < UPLOAD_SESSIONS; i++) {
      const r = await send(up.url, { method: 'POST', path: `/v2/${REPO}/blobs/uploads/`, headers: auth });
      expect(r.status, r.body).toBe(202);
      sessions.push(r.headers.location as string);
    }
    const cases = registryCases({ token, config, layer, sessions });
    expect(cases.length).toBe(registryCount);
    const failures = await runCorpus(up.url, cases, registryError4xx);
    expect(failures, `${failures.length} of ${cases.length} cases failed:\n${failures.join('\n')}`).toEqual(
      [],
    );
    await healthy();
    // Nothing was stored under the corpus's tag, and a valid manifest still goes in.
    expect(
      (await send(up.url, { method: 'GET', path: `/v2/${REPO}/manifests/corpus`, headers: auth })).status,
    ).toBe(404);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    });
    const ok = await send(up.url, {
      method: 'PUT',
      path: `/v2/${REPO}/manifests/after`,
      headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    expect(ok.status, ok.body).toBe(201);
  });
});
