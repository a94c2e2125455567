// Shared setup for log tests: a real log service on loopback in a fresh data dir, and valid signed entries.
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lateUrl, logService, type RunningServer, startServer } from '../../src/server/index.js';
import { stackDatabase } from '../backend.js';

export async function startLog(
  dataDir?: string,
): Promise<{ server: RunningServer; url: string; dataDir: string }> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'sigil-rekor-')));
  await stackDatabase(dir);
  const url = lateUrl();
  const service = await logService({ dataDir: dir, publicUrl: url.get });
  const server = await startServer([service], { logLevel: 'silent', onUrl: url.set });
  return { server, url: server.url, dataDir: dir };
}

export async function logPublicKey(url: string): Promise<KeyObject> {
  return createPublicKey(await (await fetch(`${url}/api/v1/log/publicKey`)).text());
}

export interface TestKey {
  privateKey: KeyObject;
  pem: string;
}

export function newKey(curve: 'P-256' | 'P-384' = 'P-256'): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** A valid hashedrekord v0.0.1 proposed entry for `artifact` signed by `key`. */
export function hashedRekord(
  artifact: Buffer,
  key: TestKey,
  publicKeyPem = key.pem,
): Record<string, unknown> {
  const signature = sign('sha256', artifact, key.privateKey);
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(artifact).digest('hex') } },
      signature: {
        content: signature.toString('base64'),
        publicKey: { content: Buffer.from(publicKeyPem).toString('base64') },
      },
    },
  };
}

export async function post(
  url: string,
  path: string,
  body: unknown,
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}
