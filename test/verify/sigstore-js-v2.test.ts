// sigstore-js (@sigstore/verify, @sigstore/sign: the JS client, a dev dependency) on the Rekor v2 path (#14):
// it verifies what `sigil sign-blob` makes against `sigil up --rekor-v2` (a hashedrekord v0.0.2 entry proved by
// its checkpoint, the time from sigil's TSA) with sigil's trusted root, and refuses it for another artifact or
// without the TSA in the trust root; and its own TSAWitness timestamps against sigil's TSA verify in sigil.
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { MessageSignatureBundleBuilder, RekorWitness, type Signer, TSAWitness } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedRoot } from '../../src/trust/index.js';
import { type PeerStack, said, startPeerStack } from '../peers/peers.js';

let s: PeerStack;
const f = (name: string) => join(s.work, name);

beforeAll(async () => {
  s = await startPeerStack({ args: ['--rekor-v2'] });
});
afterAll(async () => {
  await s?.stop();
});

async function trustedRoot(): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(s.trustedRoot, 'utf8'));
}

describe('sigstore-js and the Rekor v2 path', () => {
  it('@sigstore/verify accepts sigil’s v2 bundle with its TSA timestamp, and refuses other bytes or an unlisted TSA', async () => {
    const signed = await s.sigil(['sign-blob', '--yes', '--bundle', f('v2.json'), f('artifact.txt')]);
    expect(signed.code, said(signed)).toBe(0);
    const bundle = bundleFromJSON(JSON.parse(await readFile(f('v2.json'), 'utf8')));
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({
      kind: 'hashedrekord',
      version: '0.0.2',
    });
    const artifact = await readFile(f('artifact.txt'));
    const verifier = (root: Record<string, unknown>) =>
      new Verifier(toTrustMaterial(parseTrustedRoot(root)), {
        tlogThreshold: 1,
        ctlogThreshold: 1,
        timestampThreshold: 1,
      });
    const signer = verifier(await trustedRoot()).verify(toSignedEntity(bundle, artifact));
    expect(signer.identity?.subjectAlternativeName).toContain('https://github.com/');
    expect(() =>
      verifier(trustedRoot as never).verify(toSignedEntity(bundle, Buffer.from('other'))),
    ).toThrow();
    const noTsa = { ...(await trustedRoot()), timestampAuthorities: [] };
    expect(() => verifier(noTsa).verify(toSignedEntity(bundle, artifact))).toThrow();
  });

  it('a sigstore-js TSAWitness timestamp from sigil’s TSA, with its Rekor v1 entry, verifies in sigil', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const signer: Signer = {
      async sign(data) {
        return {
          signature: sign('sha256', data, privateKey),
          key: { $case: 'publicKey', publicKey: pem, hint: '' },
        };
      },
    };
    const builder = new MessageSignatureBundleBuilder({
      signer,
      witnesses: [new RekorWitness({ rekorBaseURL: s.url }), new TSAWitness({ tsaBaseURL: s.url })],
    });
    const artifact = Buffer.from(`sigstore-js and sigil's TSA ${Date.now()}`);
    const bundle = await builder.create({ data: artifact });
    expect(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1);
    await writeFile(f('js.json'), JSON.stringify(bundleToJSON(bundle)));
    await writeFile(f('js-artifact'), artifact);
    await writeFile(f('js-key.pem'), pem);
    const ok = await s.sigil([
      'verify-blob',
      '--bundle',
      f('js.json'),
      '--key',
      f('js-key.pem'),
      f('js-artifact'),
    ]);
    expect(ok.code, said(ok)).toBe(0);
    // The timestamp is over the signature: the same bundle with its timestamp from another signature fails.
    const other = await new MessageSignatureBundleBuilder({
      signer,
      witnesses: [new TSAWitness({ tsaBaseURL: s.url })],
    }).create({ data: Buffer.from('another artifact') });
    const mixed = bundleToJSON(bundle) as { verificationMaterial: { timestampVerificationData: unknown } };
    mixed.verificationMaterial.timestampVerificationData = (
      bundleToJSON(other) as { verificationMaterial: { timestampVerificationData: unknown } }
    ).verificationMaterial.timestampVerificationData;
    await writeFile(f('js-mixed.json'), JSON.stringify(mixed));
    const bad = await s.sigil([
      'verify-blob',
      '--bundle',
      f('js-mixed.json'),
      '--key',
      f('js-key.pem'),
      f('js-artifact'),
    ]);
    expect(bad.code, said(bad)).not.toBe(0);
    expect(bad.output).toContain("not over this bundle's signature");
  });
});
