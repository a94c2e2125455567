// The in-process set-up bench/ca/answer.ts and bench/ca/pool-cost.ts share: a CA service in dev mode on loopback
// (for its token issuer: dev tokens, discovery and JWKS) and `count` v2 signing requests, each with its own
// identity token and P-256 key and a valid proof of possession, ready to hand to the issuance code directly.
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AUDIENCE, type SigningInput } from '../../src/ca/index.js';
import { createCaStack, lateUrl, startServer } from '../../src/server/index.js';

export interface DevCa {
  dataDir: string;
  url: string;
  /** The issuer allow-list entry for the server's own CI issuer, as the issue workers build it. */
  issuers: { issuerUrl: string; type: 'github-workflow'; clientId: string }[];
  inputs: SigningInput[];
  close(): Promise<void>;
}

export async function startDevCa(count: number): Promise<DevCa> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-bench-ca-inproc-'));
  await writeFile(
    join(dataDir, 'ca-config.json'),
    JSON.stringify({ issuers: [], oidcDevMode: true, rateLimit: false }),
  );
  const url = lateUrl();
  const service = await createCaStack({ dataDir, publicUrl: url.get }, { issueWorkers: 0 });
  const server = await startServer([service], { logLevel: 'warn', onUrl: url.set });
  const close = async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const inputs: SigningInput[] = [];
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${server.url}/oidc/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          repository: `bench/repo${i}`,
          workflow: '.github/workflows/r.yml',
          ref: 'refs/heads/main',
        }),
      });
      const token = ((await res.json()) as { value: string }).value;
      const sub = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub as string;
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      inputs.push({
        api: 'v2',
        body: JSON.stringify({
          credentials: { oidcIdentityToken: token },
          publicKeyRequest: {
            publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) },
            proofOfPossession: sign('sha256', Buffer.from(sub), privateKey).toString('base64'),
          },
        }),
      });
    }
    const issuers = [{ issuerUrl: server.url, type: 'github-workflow' as const, clientId: DEFAULT_AUDIENCE }];
    return { dataDir, url: server.url, issuers, inputs, close };
  } catch (err) {
    await close();
    throw err;
  }
}
