// cosign v3 on cosign's current signing path against `sigil up --rekor-v2` (#14): the signing config names sigil's
// Rekor v2 log and its RFC 3161 TSA, so cosign logs a hashedrekord v0.0.2 (no signed entry timestamp) and proves
// the time of signing with a timestamp. Both directions, blobs and images: what cosign signs, cosign and sigil
// verify; what sigil signs on the same path, cosign verifies.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePeer, type PeerStack, runPeer, said, startPeerStack } from './peers.js';

describePeer('cosign3', 'cosign v3 ⇄ sigil, Rekor v2 + TSA', (cosign) => {
  let s: PeerStack;
  const run = (args: string[]) => runPeer(cosign, args, s.env);
  const trust = () => ['--trusted-root', s.trustedRoot];
  const signing = () => [...trust(), '--signing-config', s.signingConfig];
  const f = (name: string) => join(s.work, name);

  beforeAll(async () => {
    s = await startPeerStack({ args: ['--rekor-v2'] });
    const config = JSON.parse(await readFile(s.signingConfig, 'utf8'));
    expect(config.rekorTlogUrls[0].majorApiVersion).toBe(2);
    expect(config.tsaUrls).toHaveLength(1);
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** The bundle's one log entry is a v2 entry with a checkpointed proof, and it holds one timestamp. */
  async function expectV2Bundle(path: string) {
    const b = JSON.parse(await readFile(path, 'utf8'));
    const [entry] = b.verificationMaterial.tlogEntries;
    expect(entry.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    expect(entry.inclusionPromise).toBeUndefined();
    expect(entry.inclusionProof.checkpoint.envelope).toContain('\n\n— 127.0.0.1 ');
    expect(b.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
  }

  it('cosign sign-blob logs to the v2 log with a timestamp; cosign and sigil verify it, other bytes are refused', async () => {
    const bundle = f('cosign-v2.sigstore.json');
    const signed = await run(['sign-blob', '--yes', ...signing(), '--bundle', bundle, f('artifact.txt')]);
    expect(signed.code, said(signed)).toBe(0);
    await expectV2Bundle(bundle);
    const ok = await run(['verify-blob', ...trust(), '--bundle', bundle, ...s.who(), f('artifact.txt')]);
    expect(ok.code, said(ok)).toBe(0);
    const mine = await s.sigil(['verify-blob', '--bundle', bundle, ...s.who(), f('artifact.txt')]);
    expect(mine.code, said(mine)).toBe(0);
    const bad = await s.sigil(['verify-blob', '--bundle', bundle, ...s.who(), f('tampered.txt')]);
    expect(bad.code, said(bad)).not.toBe(0);
  });

  it('sigil sign-blob on the same path: cosign verify-blob accepts it', async () => {
    const bundle = f('sigil-v2.sigstore.json');
    const signed = await s.sigil(['sign-blob', '--yes', '--bundle', bundle, f('artifact.txt')]);
    expect(signed.code, said(signed)).toBe(0);
    await expectV2Bundle(bundle);
    const ok = await run(['verify-blob', ...trust(), '--bundle', bundle, ...s.who(), f('artifact.txt')]);
    expect(ok.code, said(ok)).toBe(0);
    const bad = await run(['verify-blob', ...trust(), '--bundle', bundle, ...s.who(), f('tampered.txt')]);
    expect(bad.code, said(bad)).not.toBe(0);
  });

  it('cosign sign IMAGE@DIGEST on the v2 path: cosign verify and sigil verify accept it; sigil sign, cosign verifies', async () => {
    const image = await s.pushImage('v2-cosign', 'signed by cosign v3 into rekor v2');
    const signed = await run(['sign', '--yes', ...signing(), image]);
    expect(signed.code, said(signed)).toBe(0);
    const ok = await run(['verify', ...trust(), ...s.who(), image]);
    expect(ok.code, said(ok)).toBe(0);
    const mine = await s.sigil(['verify', image, ...s.who()]);
    expect(mine.code, said(mine)).toBe(0);

    const other = await s.pushImage('v2-sigil', 'signed by sigil into rekor v2');
    const byMe = await s.sigil(['sign', '--yes', other]);
    expect(byMe.code, said(byMe)).toBe(0);
    const cosignOk = await run(['verify', ...trust(), ...s.who(), other]);
    expect(cosignOk.code, said(cosignOk)).toBe(0);
  });
});
