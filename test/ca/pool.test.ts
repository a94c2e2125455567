// Issuance through the worker pool (pool.ts, issue-worker.ts): many requests at once travel in batches, a
// worker holds one batch at a time and the rest wait for it, answers come back in groups with their CT records
// packed into one buffer. Every answer must reach its own request: each certificate carries the key its request
// asked for and the identity of its token, and each has its own CT entry.
import { createPublicKey, sign } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { devToken, newKey, postSigningCert, type RunningCa, requestCert, startCa, subOf } from './helpers.js';
import { parseCert } from './pkix.js';

let ca: RunningCa;

beforeAll(async () => {
  ca = await startCa({ issueWorkers: 2 });
});
afterAll(() => ca.stop());

it('answers every one of many concurrent requests with its own certificate', async () => {
  const N = 48;
  const tokens = await Promise.all(
    Array.from({ length: 4 }, (_, i) => devToken(ca.url, { repository: `acme/repo${i}` })),
  );
  const requests = Array.from({ length: N }, (_, i) => {
    const key = newKey();
    const token = tokens[i % tokens.length];
    return { key, token, repo: `acme/repo${i % tokens.length}` };
  });
  // A few bad requests in the same batches must not disturb their neighbours.
  const bad = new Set([5, 17, 30]);
  const answers = await Promise.all(
    requests.map(async ({ key, token }, i) => {
      const proof = sign('sha256', Buffer.from(bad.has(i) ? 'someone-else' : subOf(token)), key.privateKey);
      const res = await postSigningCert(ca.url, token, { content: key.pem }, proof);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }),
  );
  const serials = new Set<string>();
  answers.forEach((a, i) => {
    if (bad.has(i)) {
      expect(a.status).toBe(400);
      return;
    }
    expect(a.status).toBe(200);
    const chain = (a.body as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } })
      .signedCertificateEmbeddedSct.chain.certificates;
    const leaf = parseCert(chain[0]);
    const asked = createPublicKey(requests[i].key.pem).export({ type: 'spki', format: 'der' });
    expect(leaf.spki.equals(asked)).toBe(true);
    expect(leaf.san()).toEqual([
      ['url', `https://github.com/${requests[i].repo}/.github/workflows/release.yml@refs/heads/main`],
    ]);
    serials.add(leaf.serialHex);
  });
  expect(serials.size).toBe(N - bad.size);
  const sth = (await (await fetch(`${ca.url}/ct/v1/get-entries?start=0&end=255`)).json()) as {
    entries: unknown[];
  };
  expect(sth.entries.length).toBe(N - bad.size);
});

it('does not let requests stuck on an unresponsive issuer hold up the others', async () => {
  // An "issuer" that accepts connections and never answers: its discovery fetch waits for its 5 s timeout.
  const silent: Server = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const address = silent.address();
  const issuerUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const other = await startCa({
    issueWorkers: 2,
    config: { issuers: [{ issuerUrl, type: 'github-workflow', clientId: 'sigstore' }] },
  });
  try {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const stuckToken = `${enc({ alg: 'ES256', kid: 'k' })}.${enc({ iss: issuerUrl, sub: 's' })}.AAAA`;
    const good = await devToken(other.url);
    // Enough of them that both workers hold one.
    const stuck = Array.from({ length: 4 }, () => requestCert(other.url, stuckToken).catch(() => undefined));
    await new Promise((r) => setTimeout(r, 100));
    let t0 = performance.now();
    const res = await requestCert(other.url, good);
    expect(res.status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(2000);
    // Stuck and good requests interleaved, arriving together: the good ones in a batch behind a stuck one
    // must not wait for it either.
    t0 = performance.now();
    const mixed: Promise<number[]>[] = [];
    for (let i = 0; i < 12; i++) {
      if (i % 3 === 0) stuck.push(requestCert(other.url, stuckToken).catch(() => undefined));
      else mixed.push(requestCert(other.url, good).then((r) => [r.status, performance.now() - t0]));
    }
    for (const [status, ms] of await Promise.all(mixed)) {
      expect(status).toBe(200);
      expect(ms).toBeLessThan(2000);
    }
    const stuckStatuses = (await Promise.all(stuck)).map((r) => r?.status);
    // They fail in the end (discovery timed out), with a clear 503 rather than hanging.
    expect(stuckStatuses.every((s) => s === 503)).toBe(true);
  } finally {
    await other.stop();
    silent.close();
  }
}, 15_000);
