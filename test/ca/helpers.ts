// Shared by the CA tests: a real `ca` service (CA + CT log + CI issuer) on loopback with a fresh data dir, and
// small helpers to get tokens from its issuer and to ask for certificates the way clients do.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CaStackOptions,
  createCaStack,
  lateUrl,
  logService,
  type RunningServer,
  startServer,
} from '../../src/server/index.js';
import { stackDatabase } from '../backend.js';

export interface RunningCa {
  server: RunningServer;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startCa(
  options: CaStackOptions & { withLog?: boolean } = {},
  dataDir?: string,
): Promise<RunningCa> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'sigil-ca-')));
  await stackDatabase(dir);
  const url = lateUrl();
  // The transparency log first: it makes its key, which the CA then names in trusted_root.json.
  const log = options.withLog ? [await logService({ dataDir: dir, publicUrl: url.get })] : [];
  const service = await createCaStack(
    { dataDir: dir, publicUrl: url.get },
    // Worker threads cost startup time; tests use them only where they say so (the interop test does).
    // No per-client limit unless a test asks for one: the tests issue many certificates from one address.
    { issueWorkers: 0, ...options, config: { oidcDevMode: true, rateLimit: false, ...options.config } },
  );
  const server = await startServer([...log, service], { logLevel: 'silent', onUrl: url.set });
  return {
    server,
    url: server.url,
    dataDir: dir,
    async stop() {
      await server.close();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export const SHA = 'a'.repeat(40);

/** A dev-mode token from the CA's own issuer for a GitHub-shaped identity. */
export async function devToken(base: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(`${base}/oidc/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      repository: 'acme/widgets',
      workflow: '.github/workflows/release.yml',
      ref: 'refs/heads/main',
      sha: SHA,
      ...body,
    }),
  });
  if (!res.ok) throw new Error(`dev token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { value: string }).value;
}

/** The token's `sub`, or '' for a token that is not a JWT or has none (the negative tests send those). */
export function subOf(token: string): string {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).sub ?? '';
  } catch {
    return '';
  }
}

export function newKey(): { privateKey: KeyObject; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** POST /api/v2/signingCert with a public key and a proof of possession made by the caller. */
export function postSigningCert(
  base: string,
  token: string,
  publicKey: { content: string; algorithm?: string },
  proof: Buffer,
) {
  return fetch(`${base}/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: { publicKey, proofOfPossession: proof.toString('base64') },
    }),
  });
}

export async function requestCert(base: string, token: string, key = newKey(), challenge = subOf(token)) {
  const proof = sign('sha256', Buffer.from(challenge), key.privateKey);
  return postSigningCert(base, token, { algorithm: 'ECDSA', content: key.pem }, proof);
}
