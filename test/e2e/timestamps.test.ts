// The time of signing on the Rekor v2 path comes only from the RFC 3161 timestamp (#14), so sigil verify must
// refuse a bundle whose timestamp is outside the certificate's validity, outside the TSA's validity, over other
// bytes, or missing. The doctored timestamps are made by the stack's own TSA key (its chain from the data dir,
// tsa/'s engine with a chosen clock), so only the property under test is wrong.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/formats/index.js';
import { openTsaChain, timestampAuthority } from '../../src/tsa/index.js';
import { type PeerStack, said, startPeerStack } from '../peers/peers.js';

let s: PeerStack;
let bundle: Record<string, any>;
const f = (name: string) => join(s.work, name);

beforeAll(async () => {
  s = await startPeerStack({ args: ['--rekor-v2'] });
  const signed = await s.sigil(['sign-blob', '--yes', '--bundle', f('good.json'), f('artifact.txt')]);
  expect(signed.code, said(signed)).toBe(0);
  bundle = JSON.parse(await readFile(f('good.json'), 'utf8'));
});
afterAll(async () => {
  await s?.stop();
});

/** The bundle with its timestamps replaced by `tokens`, verified by `sigil verify-blob`. */
async function verifyWith(name: string, tokens: Buffer[]) {
  const b = structuredClone(bundle);
  b.verificationMaterial.timestampVerificationData = tokens.length
    ? { rfc3161Timestamps: tokens.map((t) => ({ signedTimestamp: t.toString('base64') })) }
    : {};
  await writeFile(f(name), JSON.stringify(b));
  return s.sigil(['verify-blob', '--bundle', f(name), ...s.who(), f('artifact.txt')]);
}

/** A timestamp over `data` from the stack's TSA key, as if its clock said `at`. */
async function stampAt(data: Buffer, at: Date): Promise<Buffer> {
  const tsa = timestampAuthority(await openTsaChain(s.dataDir));
  return tsa.stamp(
    { hashAlgorithm: 'sha256', hashedMessage: createHash('sha256').update(data).digest(), certReq: true },
    at,
  );
}

describe('timestamps on the Rekor v2 path', () => {
  it('the signed bundle verifies: its only time of signing is the TSA timestamp', async () => {
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion.version).toBe('0.0.2');
    const ok = await s.sigil(['verify-blob', '--bundle', f('good.json'), ...s.who(), f('artifact.txt')]);
    expect(ok.code, said(ok)).toBe(0);
    // A fresh timestamp by the same TSA, now, verifies too (the doctoring itself is sound).
    const signature = Buffer.from(bundle.messageSignature.signature, 'base64');
    const fresh = await verifyWith('fresh.json', [await stampAt(signature, new Date())]);
    expect(fresh.code, said(fresh)).toBe(0);
  });

  it('refuses a timestamp after the certificate expired', async () => {
    const cert = parseCertificate(Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64'));
    const signature = Buffer.from(bundle.messageSignature.signature, 'base64');
    const late = await verifyWith('late.json', [
      await stampAt(signature, new Date(cert.notAfter.getTime() + 60_000)),
    ]);
    expect(late.code, said(late)).not.toBe(0);
    expect(late.output).toContain('CERT_EXPIRED_AT_SIGNING_TIME');
  });

  it('refuses a timestamp from before the TSA was valid', async () => {
    const signature = Buffer.from(bundle.messageSignature.signature, 'base64');
    const early = await verifyWith('early.json', [
      await stampAt(signature, new Date(Date.now() - 30 * 86400_000)),
    ]);
    expect(early.code, said(early)).not.toBe(0);
    expect(early.output).toMatch(/TIMESTAMP_INVALID.*outside .*validity in the trusted root/);
  });

  it('refuses a timestamp over other bytes, and a bundle with no timestamp at all', async () => {
    const other = await verifyWith('other.json', [
      await stampAt(Buffer.from('another signature'), new Date()),
    ]);
    expect(other.code, said(other)).not.toBe(0);
    expect(other.output).toContain("not over this bundle's signature");
    const none = await verifyWith('none.json', []);
    expect(none.code, said(none)).not.toBe(0);
    expect(none.output).toMatch(/no verified time of signing/);
  });
});
