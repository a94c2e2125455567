// sigil's RFC 3161 timestamp authority against a real peer and sigil's own verifier: Debian's openssl makes
// queries and verifies the replies (signature, ESS signing-certificate, nonce, imprint, chain to the TSA root);
// sigil's client request and verifier accept the same tokens and refuse them over other bytes or outside the
// TSA's validity. Every malformed request is a 4xx saying what was wrong: a DER query gets an RFC 3161 rejection
// with the failure bit and a statusString, a JSON one sigstore's {code, message}.
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeTimestampRequest,
  parseTimestampResponse,
  pemToDer,
  type TIMESTAMP_HASHES,
} from '../../src/formats/index.js';
import { prepareDataDir, type RunningServer, startServer } from '../../src/server/index.js';
import { buildTrustedRoot } from '../../src/trust/index.js';
import { createTsaService, openTsaChain } from '../../src/tsa/index.js';
import { loadTrustMaterial, verifyBundle } from '../../src/verify/index.js';
import { timestampedBundle } from './helpers.js';

let dir: string;
let server: RunningServer;
let url: string;
let chainPem: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sigil-tsa-'));
  const dataDir = join(dir, 'data');
  await prepareDataDir(dataDir);
  const service = await createTsaService({ dataDir, publicUrl: () => url });
  server = await startServer([service], { logLevel: 'silent' });
  url = server.url;
  chainPem = await (await fetch(`${url}/api/v1/timestamp/certchain`)).text();
  const [signing, root] = chainPem.split(/(?<=-----END CERTIFICATE-----\n)/);
  await writeFile(join(dir, 'signing.pem'), signing);
  await writeFile(join(dir, 'root.pem'), root);
  await writeFile(join(dir, 'data.txt'), 'hello, timestamps\n');
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' });

async function post(body: Uint8Array | string, type: string, accept?: string) {
  const res = await fetch(`${url}/api/v1/timestamp`, {
    method: 'POST',
    headers: { 'content-type': type, ...(accept ? { accept } : {}) },
    body,
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: Buffer.from(await res.arrayBuffer()),
  };
}

describe('openssl ts against sigil TSA', () => {
  for (const hash of ['sha256', 'sha384', 'sha512']) {
    it(`answers an openssl ${hash} query that openssl ts -verify accepts (data, digest and query file)`, async () => {
      openssl('ts', '-query', '-data', 'data.txt', `-${hash}`, '-cert', '-out', `${hash}.tsq`);
      const reply = await post(await readFile(join(dir, `${hash}.tsq`)), 'application/timestamp-query');
      expect(reply.status).toBe(200);
      expect(reply.type).toBe('application/timestamp-reply');
      await writeFile(join(dir, `${hash}.tsr`), reply.body);
      const text = openssl('ts', '-reply', '-in', `${hash}.tsr`, '-text');
      expect(text).toContain('Status: Granted.');
      expect(text).toContain('Policy OID: 1.3.6.1.4.1.57264.2');
      expect(text).toContain('Accuracy: 0x01 seconds');
      const common = ['-CAfile', 'root.pem', '-untrusted', 'signing.pem'];
      expect(openssl('ts', '-verify', '-in', `${hash}.tsr`, '-data', 'data.txt', ...common)).toContain('OK');
      expect(
        openssl('ts', '-verify', '-in', `${hash}.tsr`, '-queryfile', `${hash}.tsq`, ...common),
      ).toContain('OK');
      const digest = createHash(hash).update('hello, timestamps\n').digest('hex');
      expect(openssl('ts', '-verify', '-in', `${hash}.tsr`, '-digest', digest, ...common)).toContain('OK');
    });
  }

  it('leaves the certificate out unless asked, and openssl still verifies with it given', async () => {
    openssl('ts', '-query', '-data', 'data.txt', '-sha256', '-out', 'nocert.tsq');
    const reply = await post(await readFile(join(dir, 'nocert.tsq')), 'application/timestamp-query');
    await writeFile(join(dir, 'nocert.tsr'), reply.body);
    // Without the signing certificate openssl cannot find the signer...
    expect(() =>
      openssl('ts', '-verify', '-in', 'nocert.tsr', '-data', 'data.txt', '-CAfile', 'root.pem'),
    ).toThrow();
    // ...given it, the token verifies.
    const out = openssl(
      'ts',
      '-verify',
      '-in',
      'nocert.tsr',
      '-data',
      'data.txt',
      '-CAfile',
      'root.pem',
      '-untrusted',
      'signing.pem',
    );
    expect(out).toContain('OK');
  });

  it('is refused by openssl for other data, another query and another root', async () => {
    await writeFile(join(dir, 'other.txt'), 'other bytes\n');
    const common = ['-CAfile', 'root.pem', '-untrusted', 'signing.pem'];
    expect(() => openssl('ts', '-verify', '-in', 'sha256.tsr', '-data', 'other.txt', ...common)).toThrow();
    // A fresh query has a fresh nonce: the reply to the first does not answer it.
    openssl('ts', '-query', '-data', 'data.txt', '-sha256', '-cert', '-out', 'again.tsq');
    expect(() =>
      openssl('ts', '-verify', '-in', 'sha256.tsr', '-queryfile', 'again.tsq', ...common),
    ).toThrow();
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=other',
      '-keyout',
      'other-key.pem',
      '-out',
      'other-root.pem',
      '-days',
      '1',
    );
    expect(() =>
      openssl(
        'ts',
        '-verify',
        '-in',
        'sha256.tsr',
        '-data',
        'data.txt',
        '-CAfile',
        'other-root.pem',
        '-untrusted',
        'signing.pem',
      ),
    ).toThrow();
  });

  it('keeps its chain across restarts, and refuses to start on a signing key that is not its certificate', async () => {
    const dataDir = join(dir, 'data');
    const again = await openTsaChain(dataDir);
    expect(again.certificates.map((c) => c.toString('base64'))).toEqual(
      pemToDer(chainPem).map((c) => c.toString('base64')),
    );
    const copy = join(dir, 'swapped');
    execFileSync('cp', ['-a', dataDir, copy]);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(
      join(copy, 'tsa', 'signing-key.pem'),
      privateKey.export({ type: 'pkcs8', format: 'pem' }),
      {
        mode: 0o600,
      },
    );
    await expect(openTsaChain(copy)).rejects.toThrow(/does not match/);
  });
});

/** A bundle verification that only needs the timestamp to vouch for the signing time. */
async function timestampFor(signature: Buffer, hash: keyof typeof TIMESTAMP_HASHES = 'sha256') {
  const req = encodeTimestampRequest({
    hashAlgorithm: hash,
    hashedMessage: createHash(hash).update(signature).digest(),
    nonce: Buffer.from([0x12, 0x34, 0x56, 0x78]),
    certReq: true,
  });
  const reply = await post(req, 'application/timestamp-query');
  expect(reply.status).toBe(200);
  const parsed = await parseTimestampResponse(reply.body);
  expect(parsed.status).toBe(0);
  return parsed.token as Buffer;
}

describe('sigil verifies its TSA tokens', () => {
  it('through the verifier, over exactly the signature, within the TSA validity', async () => {
    const chain = pemToDer(chainPem);
    const trust = (validFrom: Date) =>
      loadTrustMaterial(
        buildTrustedRoot({
          certificateAuthorities: [],
          tlogs: [],
          ctlogs: [],
          timestampAuthorities: [
            {
              baseUrl: `${url}/api/v1/timestamp`,
              organization: 'sigil',
              commonName: 'sigil TSA',
              chain,
              validFrom,
            },
          ],
        }),
      );
    // A key-signed message bundle: the public key is the verifier's policy, the timestamp its only time.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { sign } = await import('node:crypto');
    const artifact = Buffer.from('artifact bytes');
    const signature = sign('sha256', artifact, privateKey);
    const token = await timestampFor(signature);
    const bundle = (tokens: Buffer[]) => timestampedBundle(artifact, signature, tokens);
    const policy = { publicKey, tlogThreshold: 0 };
    const ok = verifyBundle(bundle([token]), artifact, policy, trust(new Date(Date.now() - 3600_000)));
    expect(ok.checks).toContain('timestamp-authority');
    // Over other bytes: a timestamp for another signature.
    const other = await timestampFor(Buffer.from('another signature'));
    expect(() =>
      verifyBundle(bundle([other]), artifact, policy, trust(new Date(Date.now() - 3600_000))),
    ).toThrow(/not over this bundle's signature/);
    // A TSA whose trusted-root validity starts after the timestamp.
    expect(() =>
      verifyBundle(bundle([token]), artifact, policy, trust(new Date(Date.now() + 3600_000))),
    ).toThrow(/outside .*validity/);
    // A flipped byte in the signature.
    const bad = Buffer.from(token);
    bad[bad.length - 5] ^= 1;
    expect(() =>
      verifyBundle(bundle([bad]), artifact, policy, trust(new Date(Date.now() - 3600_000))),
    ).toThrow();
  });
});
