// sigstore-js writes hashedrekord and dsse entries to our log through its own RekorWitness, and @sigstore/verify
// accepts the bundles (SET, checkpoint signature and inclusion proof all checked) with a trusted root naming the
// log's key; and rejects them when the log key, the checkpoint or the proof is not the right one.
import { generateKeyPairSync, sign } from 'node:crypto';
import { type Bundle, bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, MessageSignatureBundleBuilder, RekorWitness, type Signer } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../src/crypto/index.js';
import { buildTrustedRoot, parseTrustedRoot } from '../../src/trust/index.js';
import { logPublicKey, startLog } from './helpers.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signerKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const keySigner: Signer = {
  async sign(data) {
    return {
      signature: sign('sha256', data, privateKey),
      key: { $case: 'publicKey', publicKey: signerKeyPem, hint: 'test-key' },
    };
  },
};

const clone = (b: Bundle): Bundle => bundleFromJSON(bundleToJSON(b));

let ctx: Awaited<ReturnType<typeof startLog>>;
beforeAll(async () => {
  ctx = await startLog();
});
afterAll(async () => {
  await ctx.server.close();
});

function verifier(logKey = publicKey, timestampThreshold = 1) {
  return async () => {
    const root = buildTrustedRoot({
      certificateAuthorities: [],
      ctlogs: [],
      tlogs: [{ baseUrl: ctx.url, publicKey: logKey, validFrom: new Date(Date.now() - 3600_000) }],
    });
    const material = toTrustMaterial(parseTrustedRoot(JSON.parse(JSON.stringify(root))), (hint) => {
      if (hint !== 'test-key') throw new Error(`unknown key hint ${hint}`);
      return { publicKey, validFor: () => true };
    });
    return new Verifier(material, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold });
  };
}

describe('sigstore-js interop', () => {
  it('hashedrekord: MessageSignatureBundleBuilder + RekorWitness → bundle that @sigstore/verify accepts', async () => {
    const logKey = await logPublicKey(ctx.url);
    const builder = new MessageSignatureBundleBuilder({
      signer: keySigner,
      witnesses: [new RekorWitness({ rekorBaseURL: ctx.url, fetchOnConflict: true })],
    });
    const artifact = Buffer.from(`interop artifact ${Date.now()}`);
    const bundle = bundleFromJSON(
      JSON.parse(JSON.stringify(bundleToJSON(await builder.create({ data: artifact })))),
    );
    const entry = bundle.verificationMaterial.tlogEntries[0];
    expect(entry.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.1' });
    expect(entry.inclusionPromise?.signedEntryTimestamp.length).toBeGreaterThan(0);
    expect(entry.inclusionProof?.checkpoint?.envelope).toContain(`127.0.0.1 - `);

    const v = await verifier(logKey)();
    expect(v.verify(toSignedEntity(bundle, artifact)).key.asymmetricKeyType).toBe('ec');

    // The same bundle against another log key fails (both the SET and the checkpoint name the key).
    const other = await verifier(generateKey('ecdsa-p256'))();
    expect(() => other.verify(toSignedEntity(bundle, artifact))).toThrow(/TLOG|inclusion/i);
    // A different artifact fails.
    expect(() => v.verify(toSignedEntity(bundle, Buffer.from('other')))).toThrow();

    // With the SET removed (so no trusted time either), the inclusion proof + checkpoint alone must verify...
    const proofOnly = clone(bundle);
    proofOnly.verificationMaterial.tlogEntries[0].inclusionPromise = undefined;
    const vp = await verifier(logKey, 0)();
    expect(() => vp.verify(toSignedEntity(proofOnly, artifact))).not.toThrow();
    // ...and a tampered proof hash or checkpoint signature is caught.
    const badProof = clone(proofOnly);
    const proof = badProof.verificationMaterial.tlogEntries[0].inclusionProof!;
    if (proof.hashes.length > 0) {
      proof.hashes[0] = Buffer.alloc(32, 7);
      expect(() => vp.verify(toSignedEntity(badProof, artifact))).toThrow(/root hash/i);
    }
    const badNote = clone(proofOnly);
    const cp = badNote.verificationMaterial.tlogEntries[0].inclusionProof!.checkpoint!;
    cp.envelope = cp.envelope.replace(/\n(\d+)\n/, (_m, n) => `\n${Number(n) + 1}\n`);
    expect(() => vp.verify(toSignedEntity(badNote, artifact))).toThrow(/checkpoint/i);
    // With the proof removed, the SET alone is checked: a tampered SET is caught.
    const badSet = clone(bundle);
    badSet.verificationMaterial.tlogEntries[0].inclusionProof = undefined;
    expect(() => v.verify(toSignedEntity(badSet, artifact))).not.toThrow();
    badSet.verificationMaterial.tlogEntries[0].logIndex = String(Number(entry.logIndex) + 1);
    expect(() => v.verify(toSignedEntity(badSet, artifact))).toThrow(/TLOG_INCLUSION_PROMISE|promise/i);

    // Logging the same signature again conflicts (409 + Location); fetchOnConflict makes sigstore-js fetch it.
    const sameSig =
      bundle.content.$case === 'messageSignature' ? bundle.content.messageSignature.signature : undefined;
    const replay = new MessageSignatureBundleBuilder({
      signer: {
        sign: async () => ({ signature: sameSig as Buffer, key: (await keySigner.sign(artifact)).key }),
      },
      witnesses: [new RekorWitness({ rekorBaseURL: ctx.url, fetchOnConflict: true })],
    });
    const again = await replay.create({ data: artifact });
    expect(again.verificationMaterial.tlogEntries[0].logIndex).toBe(entry.logIndex);
    expect(() => v.verify(toSignedEntity(again, artifact))).not.toThrow();
  });

  it('dsse: DSSEBundleBuilder + RekorWitness → bundle that @sigstore/verify accepts', async () => {
    const logKey = await logPublicKey(ctx.url);
    const builder = new DSSEBundleBuilder({
      signer: keySigner,
      witnesses: [new RekorWitness({ rekorBaseURL: ctx.url, entryType: 'dsse' })],
    });
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'a', digest: { sha256: 'ab'.repeat(32) } }],
        predicateType: 'https://example.com/p',
        predicate: { at: Date.now() },
      }),
    );
    const bundle = await builder.create({ data: statement, type: 'application/vnd.in-toto+json' });
    const entry = bundle.verificationMaterial.tlogEntries[0];
    expect(entry.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    const v = await verifier(logKey)();
    expect(() => v.verify(toSignedEntity(bundle))).not.toThrow();
    const other = await verifier(generateKey('ecdsa-p256'))();
    expect(() => other.verify(toSignedEntity(bundle))).toThrow();
  });

  it('intoto v0.0.2: DSSEBundleBuilder with entryType intoto → bundle that @sigstore/verify accepts', async () => {
    const logKey = await logPublicKey(ctx.url);
    const builder = new DSSEBundleBuilder({
      signer: keySigner,
      witnesses: [new RekorWitness({ rekorBaseURL: ctx.url, entryType: 'intoto' })],
    });
    const bundle = await builder.create({
      data: Buffer.from(`{"n":${Date.now()}}`),
      type: 'application/vnd.in-toto+json',
    });
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({
      kind: 'intoto',
      version: '0.0.2',
    });
    const v = await verifier(logKey)();
    expect(() => v.verify(toSignedEntity(bundle))).not.toThrow();
  });
});
