// Issuance through the worker pool (pool.ts, issue-worker.ts): many requests at once travel in batches, a
// worker holds one batch at a time and the rest wait for it, answers come back in groups with their CT records
// packed into one buffer. Every answer must reach its own request: each certificate carries the key its request
// asked for and the identity of its token, and each has its own CT entry.
import { createPublicKey, sign } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { devToken, newKey, type RunningCa, startCa, subOf } from './helpers.js';
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
      const res = await fetch(`${ca.url}/api/v2/signingCert`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          credentials: { oidcIdentityToken: token },
          publicKeyRequest: { publicKey: { content: key.pem }, proofOfPossession: proof.toString('base64') },
        }),
      });
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
