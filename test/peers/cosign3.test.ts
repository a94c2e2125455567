// cosign v3 (the tutorial's client, current generation) against a real `sigil up`, exactly as a GitHub job runs it:
// the token comes from sigil's CI issuer through ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN, the CA, log and trust come from
// sigil's signing_config.json and trusted_root.json (--signing-config / --trusted-root), the signature goes to sigil's
// registry. Both directions: whatever cosign signs or attests, sigil verifies, and whatever sigil makes, cosign
// verifies; a wrong identity, issuer or digest is refused by both.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePeer, IDENTITY, type PeerStack, runPeer, said, startPeerStack } from './peers.js';

describePeer('cosign3', 'cosign v3 ⇄ sigil', (cosign) => {
  let s: PeerStack;
  const run = (args: string[]) => runPeer(cosign, args, s.env);
  const trust = () => ['--trusted-root', s.trustedRoot];
  const signing = () => [...trust(), '--signing-config', s.signingConfig];
  const who = (identity?: string, issuer?: string) => s.who(identity, issuer);

  beforeAll(async () => {
    s = await startPeerStack();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('cosign sign --yes IMAGE@DIGEST keylessly; cosign verify and sigil verify accept it; a wrong identity, issuer or digest is refused', async () => {
    const image = await s.pushImage('cosign3-signed', 'signed by cosign v3');
    const other = await s.pushImage('cosign3-unsigned', 'nobody signed this');
    const signed = await run(['sign', '--yes', ...signing(), image]);
    expect(signed.code, said(signed)).toBe(0);

    const ok = await run(['verify', ...trust(), ...who(), image]);
    expect(ok.code, said(ok)).toBe(0);
    expect(ok.stderr).toContain(
      'The code-signing certificate was verified using trusted certificate authority',
    );
    const claims = JSON.parse(ok.stdout) as { critical?: unknown; subject?: unknown }[];
    expect(JSON.stringify(claims)).toContain(image.split('@')[1].slice('sha256:'.length));

    const wrongId = await run(['verify', ...trust(), ...who(`${IDENTITY}x`), image]);
    expect(wrongId.code, said(wrongId)).not.toBe(0);
    expect(wrongId.stderr).toMatch(/expected SAN value|none of the expected identities matched/);
    const wrongIssuer = await run([
      'verify',
      ...trust(),
      ...who(IDENTITY, 'https://token.actions.githubusercontent.com'),
      image,
    ]);
    expect(wrongIssuer.code, said(wrongIssuer)).not.toBe(0);
    const wrongDigest = await run(['verify', ...trust(), ...who(), other]);
    expect(wrongDigest.code, said(wrongDigest)).not.toBe(0);
    expect(wrongDigest.stderr).toMatch(/no signatures found|no matching signatures/);

    const mine = await s.sigil(['verify', image, ...who(), '--output', 'text']);
    expect(mine.code, said(mine)).toBe(0);
    expect(mine.output).toContain(`Certificate subject: ${IDENTITY}`);
    const mineWrong = await s.sigil(['verify', image, ...who(`${IDENTITY}x`)]);
    expect(mineWrong.code, said(mineWrong)).not.toBe(0);
  });

  it('cosign attest --type slsaprovenance + cosign verify-attestation; sigil verify-attestation accepts it', async () => {
    const image = await s.pushImage('cosign3-attested', 'attested by cosign v3');
    const pred = join(s.work, 'predicate.json');
    const att = await run([
      'attest',
      '--yes',
      ...signing(),
      '--type',
      'slsaprovenance',
      '--predicate',
      pred,
      image,
    ]);
    expect(att.code, said(att)).toBe(0);
    const ok = await run(['verify-attestation', ...trust(), '--type', 'slsaprovenance', ...who(), image]);
    expect(ok.code, said(ok)).toBe(0);
    const wrongType = await run(['verify-attestation', ...trust(), '--type', 'spdxjson', ...who(), image]);
    expect(wrongType.code, said(wrongType)).not.toBe(0);

    const mine = await s.sigil(['verify-attestation', image, '--type', 'slsaprovenance', ...who()]);
    expect(mine.code, said(mine)).toBe(0);
    const statement = JSON.parse(
      Buffer.from(
        (JSON.parse(mine.stdout.split('\n')[0]) as { payload: string }).payload,
        'base64',
      ).toString(),
    ) as { predicateType: string; predicate: unknown };
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v0.2');
    expect(statement.predicate).toMatchObject({ buildType: 'make' });
    // A signature is not an attestation, and the other way round.
    const notSigned = await s.sigil(['verify', image, ...who()]);
    expect(notSigned.code, said(notSigned)).not.toBe(0);
  });

  it('cosign sign-blob --bundle + cosign verify-blob; sigil verify-blob accepts the bundle; other bytes are refused', async () => {
    const artifact = join(s.work, 'artifact.txt');
    const bundle = join(s.work, 'cosign3-blob.sigstore.json');
    const signed = await run(['sign-blob', '--yes', ...signing(), '--bundle', bundle, artifact]);
    expect(signed.code, said(signed)).toBe(0);
    const json = JSON.parse(await readFile(bundle, 'utf8')) as { mediaType: string };
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');

    const ok = await run(['verify-blob', ...trust(), '--bundle', bundle, ...who(), artifact]);
    expect(ok.code, said(ok)).toBe(0);
    expect(ok.stderr).toContain('Verified OK');
    const mine = await s.sigil(['verify-blob', '--bundle', bundle, ...who(), artifact]);
    expect(mine.code, said(mine)).toBe(0);

    const tampered = join(s.work, 'tampered.txt');
    await writeFile(tampered, 'release tarball bytes, changed\n');
    const bad = await run(['verify-blob', ...trust(), '--bundle', bundle, ...who(), tampered]);
    expect(bad.code, said(bad)).not.toBe(0);
    const mineBad = await s.sigil(['verify-blob', '--bundle', bundle, ...who(), tampered]);
    expect(mineBad.code, said(mineBad)).not.toBe(0);
  });

  it('verifies what sigil sign, attest and sign-blob make', async () => {
    const image = await s.pushImage('sigil-signed', 'signed by sigil for cosign v3');
    const signed = await s.sigil(['sign', '--yes', image]);
    expect(signed.code, said(signed)).toBe(0);
    const ok = await run(['verify', ...trust(), ...who(), image]);
    expect(ok.code, said(ok)).toBe(0);
    const wrong = await run(['verify', ...trust(), ...who(`${IDENTITY}x`), image]);
    expect(wrong.code, said(wrong)).not.toBe(0);

    const attested = await s.sigil([
      'attest',
      '--yes',
      '--type',
      'slsaprovenance',
      '--predicate',
      join(s.work, 'predicate.json'),
      image,
    ]);
    expect(attested.code, said(attested)).toBe(0);
    const att = await run(['verify-attestation', ...trust(), '--type', 'slsaprovenance', ...who(), image]);
    expect(att.code, said(att)).toBe(0);

    const artifact = join(s.work, 'artifact.txt');
    const bundle = join(s.work, 'sigil-blob.sigstore.json');
    const blob = await s.sigil(['sign-blob', '--yes', '--bundle', bundle, artifact]);
    expect(blob.code, said(blob)).toBe(0);
    const vb = await run(['verify-blob', ...trust(), '--bundle', bundle, ...who(), artifact]);
    expect(vb.code, said(vb)).toBe(0);
    const vbWrong = await run([
      'verify-blob',
      ...trust(),
      '--bundle',
      bundle,
      ...who(IDENTITY, 'https://other.example'),
      artifact,
    ]);
    expect(vbWrong.code, said(vbWrong)).not.toBe(0);
  });

  it('cosign tree and cosign download signature read what is attached in sigil’s registry', async () => {
    const image = await s.pushImage('cosign3-tree', 'tree of cosign v3');
    expect((await run(['sign', '--yes', ...signing(), image])).code).toBe(0);
    expect((await s.sigil(['sign', '--yes', image])).code).toBe(0);
    const tree = await run(['tree', image]);
    expect(tree.code, said(tree)).toBe(0);
    const out = tree.stdout + tree.stderr;
    expect(out).toContain(`sha256-${image.split('@sha256:')[1]}.sig`);
    expect(out).toMatch(/https:\/\/sigstore\.dev\/cosign\/sign\/v1 artifacts via OCI referrer/);

    // cosign v3 prints the Sigstore bundles it finds as referrers (its own DSSE signature statement among them).
    const dl = await run(['download', 'signature', image]);
    expect(dl.code, said(dl)).toBe(0);
    const bundles = dl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { mediaType?: string; dsseEnvelope?: { payload: string } });
    const subjects = bundles.map((b) =>
      b.dsseEnvelope ? Buffer.from(b.dsseEnvelope.payload, 'base64').toString() : '',
    );
    expect(bundles.every((b) => b.mediaType === 'application/vnd.dev.sigstore.bundle.v0.3+json')).toBe(true);
    expect(
      subjects.some((p) => p.includes(image.split('@sha256:')[1])),
      dl.stdout,
    ).toBe(true);
  });
});
