// Trust validity comes from a record, not from file times (#15.3): each key's start of validity is written once,
// beside the key, when it is made. Touching the key files, or copying the data dir without preserving times (as a
// restore from backup does), must leave trusted_root.json as it was, or every earlier signature would stop
// verifying.
import { cp, mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyValidFrom, validFromPath } from '../../src/crypto/index.js';
import { startStack } from '../../src/server/index.js';
import { freePort } from '../e2e/helpers.js';

let top: string;
/** One port for every start, so the URLs in the trusted root stay the same too. */
let port: number;

/** Starts and stops the whole stack on `dataDir`; returns the trusted root it served. */
async function trustedRootOf(
  dataDir: string,
): Promise<{ tlogs: unknown[]; ctlogs: unknown[]; certificateAuthorities: unknown[] }> {
  const { server } = await startStack({ dataDir, port, logLevel: 'silent' });
  await server.close();
  return JSON.parse(await readFile(join(dataDir, 'trusted_root.json'), 'utf8'));
}

beforeAll(async () => {
  top = await mkdtemp(join(tmpdir(), 'sigil-keytimes-'));
  port = await freePort();
});
afterAll(async () => {
  await rm(top, { recursive: true, force: true });
});

describe('key validity times', () => {
  it('survive a touch of the key files and a copy of the data dir that keeps no times', async () => {
    const dataDir = join(top, 'data');
    const first = await trustedRootOf(dataDir);
    const later = new Date(Date.now() + 3 * 24 * 3600_000);
    for (const key of ['log/signing-key.pem', 'ct/ct-key.pem', 'ca/root-key.pem', 'oidc/issuer-key.pem'])
      await utimes(join(dataDir, key), later, later);
    expect(await trustedRootOf(dataDir)).toEqual(first);

    const restored = join(top, 'restored');
    await cp(dataDir, restored, { recursive: true, preserveTimestamps: false });
    const again = await trustedRootOf(restored);
    expect(again.tlogs).toEqual(first.tlogs);
    expect(again.ctlogs).toEqual(first.ctlogs);
    expect(again.certificateAuthorities).toEqual(first.certificateAuthorities);
  });

  it('a key from before the record gets its file time written down once, and keeps it', async () => {
    const dataDir = join(top, 'old');
    await trustedRootOf(dataDir);
    const key = join(dataDir, 'log', 'signing-key.pem');
    await rm(validFromPath(key));
    const made = new Date('2026-01-02T03:04:05.000Z');
    await utimes(key, made, made);
    expect((await keyValidFrom(key)).toISOString()).toBe(made.toISOString());
    await utimes(key, new Date(), new Date());
    expect((await keyValidFrom(key)).toISOString()).toBe(made.toISOString());
    const root = await trustedRootOf(dataDir);
    expect((root.tlogs[0] as { publicKey: { validFor: { start: string } } }).publicKey.validFor.start).toBe(
      new Date(made.getTime() - 60_000).toISOString(),
    );
  });
});
