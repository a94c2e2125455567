// cosign v2 (the client most existing pipelines still pin) against a real `sigil up`, configured the v2 way: URL
// flags (--fulcio-url, --rekor-url) and trust from files named by SIGSTORE_ROOT_FILE (the CA chain),
// SIGSTORE_REKOR_PUBLIC_KEY and SIGSTORE_CT_LOG_PUBLIC_KEY_FILE, signatures in cosign's `.sig` / `.att` tag layout.
// Both directions: what cosign v2 signs, attests and sign-blobs, sigil verifies; what sigil makes, cosign v2
// verifies; a wrong identity, issuer or artifact is refused by both.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePeer, IDENTITY, type PeerStack, runPeer, said, startPeerStack } from './peers.js';

/** The fields of cosign's own blob bundle file that the tests doctor. */
interface CosignBlobBundle {
  base64Signature: string;
  rekorBundle: { Payload: { integratedTime: number } };
}

describePeer('cosign2', 'cosign v2 ⇄ sigil', (cosign) => {
  let s: PeerStack;
  const run = (args: string[]) =>
    runPeer(cosign, args, {
      ...s.env,
      SIGSTORE_ROOT_FILE: s.pem.fulcioChain,
      SIGSTORE_REKOR_PUBLIC_KEY: s.pem.rekorKey,
      SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: s.pem.ctKey,
    });
  const services = () => ['--fulcio-url', s.url, '--rekor-url', s.url];
  const who = (identity?: string, issuer?: string) => s.who(identity, issuer);
  const hex = (image: string) => image.split('@sha256:')[1];

  beforeAll(async () => {
    s = await startPeerStack();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('cosign sign --fulcio-url --rekor-url writes the .sig tag; cosign verify and sigil verify accept it; wrong identity, issuer or digest refused', async () => {
    const image = await s.pushImage('cosign2-signed', 'signed by cosign v2');
    const other = await s.pushImage('cosign2-unsigned', 'nobody signed this either');
    const signed = await run(['sign', '--yes', ...services(), image]);
    expect(signed.code, said(signed)).toBe(0);
    expect(signed.stderr).toMatch(/tlog entry created with index: \d+/);

    const where = await run(['triangulate', image]);
    expect(where.stdout.trim()).toBe(`${image.split('@')[0]}:sha256-${hex(image)}.sig`);

    const ok = await run(['verify', '--rekor-url', s.url, ...who(), image]);
    expect(ok.code, said(ok)).toBe(0);
    expect(ok.stderr).toContain('Existence of the claims in the transparency log was verified offline');
    expect(ok.stdout).toContain(`"docker-manifest-digest":"sha256:${hex(image)}"`);
    const wrongId = await run(['verify', '--rekor-url', s.url, ...who(`${IDENTITY}x`), image]);
    expect(wrongId.code, said(wrongId)).not.toBe(0);
    expect(wrongId.stderr).toMatch(/none of the expected identities matched/);
    const wrongIssuer = await run([
      'verify',
      '--rekor-url',
      s.url,
      ...who(IDENTITY, 'https://token.actions.githubusercontent.com'),
      image,
    ]);
    expect(wrongIssuer.code, said(wrongIssuer)).not.toBe(0);
    const unsigned = await run(['verify', '--rekor-url', s.url, ...who(), other]);
    expect(unsigned.code, said(unsigned)).not.toBe(0);

    const mine = await s.sigil(['verify', image, ...who(), '--output', 'text']);
    expect(mine.code, said(mine)).toBe(0);
    expect(mine.output).toContain(`Certificate subject: ${IDENTITY}`);
    const mineWrong = await s.sigil(['verify', image, ...who(IDENTITY, 'https://other.example')]);
    expect(mineWrong.code, said(mineWrong)).not.toBe(0);
  });

  it('cosign attest --type slsaprovenance + verify-attestation (.att tag); sigil verify-attestation accepts it', async () => {
    const image = await s.pushImage('cosign2-attested', 'attested by cosign v2');
    const pred = join(s.work, 'predicate.json');
    const att = await run([
      'attest',
      '--yes',
      ...services(),
      '--type',
      'slsaprovenance',
      '--predicate',
      pred,
      image,
    ]);
    expect(att.code, said(att)).toBe(0);
    const verifyAtt = (identity?: string) =>
      run(['verify-attestation', '--rekor-url', s.url, '--type', 'slsaprovenance', ...who(identity), image]);
    const ok = await verifyAtt();
    expect(ok.code, said(ok)).toBe(0);
    const wrong = await verifyAtt(`${IDENTITY}x`);
    expect(wrong.code, said(wrong)).not.toBe(0);

    const mine = await s.sigil(['verify-attestation', image, '--type', 'slsaprovenance', ...who()]);
    expect(mine.code, said(mine)).toBe(0);
    const statement = JSON.parse(
      Buffer.from(
        (JSON.parse(mine.stdout.split('\n')[0]) as { payload: string }).payload,
        'base64',
      ).toString(),
    ) as { predicateType: string; subject: { digest: { sha256: string } }[] };
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v0.2');
    expect(statement.subject[0].digest.sha256).toBe(hex(image));
  });

  it('cosign sign-blob --bundle (cosign’s own bundle file) + verify-blob; sigil verify-blob reads that file too', async () => {
    const artifact = join(s.work, 'artifact.txt');
    const tampered = join(s.work, 'tampered.txt');
    const bundle = join(s.work, 'cosign2-blob.bundle');
    const signed = await run(['sign-blob', '--yes', ...services(), '--bundle', bundle, artifact]);
    expect(signed.code, said(signed)).toBe(0);
    const json = JSON.parse(await readFile(bundle, 'utf8')) as {
      base64Signature: string;
      rekorBundle: unknown;
    };
    expect(json.base64Signature).toBe(signed.stdout.trim());
    expect(json.rekorBundle).toBeTruthy();

    const ok = await run(['verify-blob', '--rekor-url', s.url, '--bundle', bundle, ...who(), artifact]);
    expect(ok.code, said(ok)).toBe(0);
    const bad = await run(['verify-blob', '--rekor-url', s.url, '--bundle', bundle, ...who(), tampered]);
    expect(bad.code, said(bad)).not.toBe(0);

    const mine = await s.sigil(['verify-blob', '--bundle', bundle, ...who(), artifact]);
    expect(mine.code, said(mine)).toBe(0);
    const mineBad = await s.sigil(['verify-blob', '--bundle', bundle, ...who(), tampered]);
    expect(mineBad.code, said(mineBad)).not.toBe(0);
    const mineWrongId = await s.sigil(['verify-blob', '--bundle', bundle, ...who(`${IDENTITY}x`), artifact]);
    expect(mineWrongId.code, said(mineWrongId)).not.toBe(0);

    // The Rekor bundle inside is checked too: a moved integrated time breaks its SET, and no signature is no bundle.
    const doctored = async (name: string, change: (j: CosignBlobBundle) => void) => {
      const j = JSON.parse(await readFile(bundle, 'utf8')) as CosignBlobBundle;
      change(j);
      const path = join(s.work, name);
      await writeFile(path, JSON.stringify(j));
      return s.sigil(['verify-blob', '--bundle', path, ...who(), artifact]);
    };
    const movedTime = await doctored('moved-time.bundle', (j) => {
      j.rekorBundle.Payload.integratedTime += 3600;
    });
    expect(movedTime.code, said(movedTime)).not.toBe(0);
    expect(movedTime.stderr).toMatch(/SET|signed entry timestamp/i);
    const noSig = await doctored('no-signature.bundle', (j) => {
      j.base64Signature = '';
    });
    expect(noSig.code, said(noSig)).not.toBe(0);
    expect(noSig.stderr).toContain('base64Signature must be a non-empty string');
  });

  it('verifies what sigil sign, attest and sign-blob make', async () => {
    const image = await s.pushImage('sigil-signed-v2', 'signed by sigil for cosign v2');
    expect((await s.sigil(['sign', '--yes', image])).code).toBe(0);
    const ok = await run(['verify', '--rekor-url', s.url, ...who(), image]);
    expect(ok.code, said(ok)).toBe(0);
    const wrong = await run(['verify', '--rekor-url', s.url, ...who(`${IDENTITY}x`), image]);
    expect(wrong.code, said(wrong)).not.toBe(0);

    // sigil attests in both layouts by default; cosign v2 then takes the OCI referrer's Sigstore bundle, for which it
    // needs --trusted-root (as for an attestation cosign v3 made). In the .att layout alone its v2 settings suffice.
    const pred = join(s.work, 'predicate.json');
    const attArgs = ['attest', '--yes', '--type', 'slsaprovenance', '--predicate', pred];
    expect((await s.sigil([...attArgs, image])).code).toBe(0);
    const vaArgs = ['verify-attestation', '--rekor-url', s.url, '--type', 'slsaprovenance', ...who()];
    const va = await run([...vaArgs, '--trusted-root', s.trustedRoot, image]);
    expect(va.code, said(va)).toBe(0);
    const legacy = await s.pushImage('sigil-attested-legacy', 'attested by sigil, .att only');
    const attLegacy = await s.sigil([...attArgs, '--registry-referrers-mode', 'legacy', legacy]);
    expect(attLegacy.code, said(attLegacy)).toBe(0);
    const vaLegacy = await run([...vaArgs, legacy]);
    expect(vaLegacy.code, said(vaLegacy)).toBe(0);
    const vaLegacyWrong = await run([...vaArgs.slice(0, -4), ...who(`${IDENTITY}x`), legacy]);
    expect(vaLegacyWrong.code, said(vaLegacyWrong)).not.toBe(0);

    // cosign v2 reads a Sigstore bundle with --new-bundle-format, which needs the trusted root as a file.
    const artifact = join(s.work, 'artifact.txt');
    const bundle = join(s.work, 'sigil-blob-v2.sigstore.json');
    expect((await s.sigil(['sign-blob', '--yes', '--bundle', bundle, artifact])).code).toBe(0);
    const blobArgs = [
      'verify-blob',
      '--new-bundle-format',
      '--trusted-root',
      s.trustedRoot,
      '--bundle',
      bundle,
    ];
    const vb = await run([...blobArgs, ...who(), artifact]);
    expect(vb.code, said(vb)).toBe(0);
    const vbBad = await run([...blobArgs, ...who(), join(s.work, 'tampered.txt')]);
    expect(vbBad.code, said(vbBad)).not.toBe(0);
  });
});
