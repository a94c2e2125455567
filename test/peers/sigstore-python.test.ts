// sigstore-python 4.5.1 (the `sigstore` CLI) against a real `sigil up`, given sigil's trusted root and signing
// config as one ClientTrustConfig (`--trust-config`): it verifies sigil's blob bundles (message signature over
// hashedrekord, and DSSE) for the workflow identity, refusing another artifact, identity or issuer; and it signs
// and attests through sigil's CA and log over plain http, for `sigil verify-blob` to verify.
//
// One documented difference: sigstore-python reads a DSSE payload only as an in-toto Statement v1
// (sigstore/dsse/__init__.py _Statement: `_type: Literal["https://in-toto.io/Statement/v1"]`), while sigil's
// attest-blob --predicate wraps the predicate in a v0.1 statement as cosign does. `attest-blob --statement` with a
// v1 statement is what sigstore-python verifies; the v0.1 one it refuses as "malformed in-toto statement".
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePeer, IDENTITY, type PeerStack, runPeer, said, startPeerStack } from './peers.js';

/** The job's OIDC token for audience "sigstore", as a GitHub Actions step would fetch it. */
async function identityToken(env: NodeJS.ProcessEnv): Promise<string> {
  const res = await fetch(`${env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=sigstore`, {
    headers: { authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { value: string }).value;
}

const SLSA_V1 = 'https://slsa.dev/provenance/v1';
/** The smallest predicate sigstore-python's SLSA v1 model (sigstore/dsse/_predicate.py) accepts. */
const SLSA_PREDICATE = {
  buildDefinition: {
    buildType: 'https://sigil.test/build/v1',
    externalParameters: { ref: 'refs/heads/main' },
  },
  runDetails: { builder: { id: 'https://sigil.test/runner' } },
};

describePeer('sigstore-python', 'sigstore-python against sigil', (bin) => {
  let s: PeerStack;
  let trustConfig: string;
  // rich wraps its log lines at the terminal width; a wide one keeps each message on one line.
  let env: NodeJS.ProcessEnv;
  const f = (name: string) => join(s.work, name);

  beforeAll(async () => {
    s = await startPeerStack();
    env = { ...s.env, COLUMNS: '1000' };
    // ClientTrustConfig (protobuf-specs trustroot.proto, media type v0.1): sigil's two files, as they are.
    trustConfig = f('client_trust_config.json');
    await writeFile(
      trustConfig,
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
        trustedRoot: JSON.parse(await readFile(s.trustedRoot, 'utf8')),
        signingConfig: JSON.parse(await readFile(s.signingConfig, 'utf8')),
      }),
    );
    await writeFile(f('artifact.txt'), 'release 1.0 of django-keyless\n');
    await writeFile(f('other.txt'), 'something else\n');
    await writeFile(f('predicate.json'), '{"builder": "sigil peers test"}\n');
    await writeFile(f('slsa.json'), JSON.stringify(SLSA_PREDICATE));
    const sha256 = createHash('sha256')
      .update(await readFile(f('artifact.txt')))
      .digest('hex');
    await writeFile(
      f('statement-v1.json'),
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'artifact.txt', digest: { sha256 } }],
        predicateType: SLSA_V1,
        predicate: SLSA_PREDICATE,
      }),
    );
    for (const args of [
      ['sign-blob', '--yes', '--bundle', f('blob.sigstore.json')],
      [
        'attest-blob',
        '--yes',
        '--statement',
        f('statement-v1.json'),
        '--bundle',
        f('attest-v1.sigstore.json'),
      ],
      ['attest-blob', '--yes', '--predicate', f('predicate.json'), '--bundle', f('attest-v01.sigstore.json')],
    ]) {
      const r = await s.sigil([...args, f('artifact.txt')], s.env);
      expect(r.code, said(r)).toBe(0);
    }
  });

  afterAll(async () => {
    await s?.stop();
  });

  const verify = (bundle: string, o: { artifact?: string; identity?: string; issuer?: string } = {}) =>
    runPeer(
      bin,
      [
        '--trust-config',
        trustConfig,
        'verify',
        'identity',
        '--bundle',
        bundle,
        '--cert-identity',
        o.identity ?? IDENTITY,
        '--cert-oidc-issuer',
        o.issuer ?? s.url,
        o.artifact ?? f('artifact.txt'),
      ],
      env,
    );

  const sigilVerify = (bundle: string, o: { artifact?: string; identity?: string; issuer?: string } = {}) =>
    s.sigil([
      'verify-blob',
      '--bundle',
      bundle,
      ...s.who(o.identity, o.issuer),
      '--trusted-root',
      s.trustedRoot,
      o.artifact ?? f('artifact.txt'),
    ]);

  for (const [kind, file, wrongArtifact] of [
    ['sign-blob (hashedrekord)', 'blob.sigstore.json', 'Bundle message digest mismatch'],
    [
      'attest-blob --statement, in-toto v1 (DSSE)',
      'attest-v1.sigstore.json',
      'in-toto statement has no subject for digest',
    ],
  ] as const) {
    it(`verify identity accepts sigil ${kind} and refuses another artifact, identity or issuer`, async () => {
      const [ok, other, identity, issuer] = await Promise.all([
        verify(f(file)),
        verify(f(file), { artifact: f('other.txt') }),
        verify(f(file), { identity: `${IDENTITY}-not` }),
        verify(f(file), { issuer: 'https://token.actions.githubusercontent.com' }),
      ]);
      expect(ok.code, said(ok)).toBe(0);
      expect(ok.output).toContain(`OK: ${f('artifact.txt')}`);

      expect(other.code, said(other)).toBe(1);
      expect(other.output).toContain(`FAIL: ${f('other.txt')}`);
      expect(other.output).toContain(wrongArtifact);

      expect(identity.code, said(identity)).toBe(1);
      expect(identity.output).toContain(`Certificate's SANs do not match ${IDENTITY}-not`);

      expect(issuer.code, said(issuer)).toBe(1);
      expect(issuer.output).toContain(
        `Certificate's OIDCIssuer does not match (got '${s.url}', expected 'https://token.actions.githubusercontent.com')`,
      );
    });
  }

  it('refuses sigil attest-blob --predicate: sigstore-python reads only in-toto Statement v1, not cosign’s v0.1', async () => {
    const bundle = JSON.parse(await readFile(f('attest-v01.sigstore.json'), 'utf8'));
    const payload = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    expect(payload._type).toBe('https://in-toto.io/Statement/v0.1');
    const r = await verify(f('attest-v01.sigstore.json'));
    expect(r.code, said(r)).toBe(1);
    expect(r.output).toContain('malformed in-toto statement');
    expect(r.output).toContain("Input should be 'https://in-toto.io/Statement/v1'");
  });

  it('signs through sigil’s CA and log over http; sigil verify-blob accepts the bundle', async () => {
    const bundle = f('python-blob.sigstore.json');
    const r = await runPeer(
      bin,
      [
        '--trust-config',
        trustConfig,
        'sign',
        '--identity-token',
        await identityToken(s.env),
        '--bundle',
        bundle,
        f('artifact.txt'),
      ],
      env,
    );
    expect(r.code, said(r)).toBe(0);
    expect(r.output).toContain(`Sigstore bundle written to ${bundle}`);
    expect(r.output).toMatch(/Transparency log entry created at index: \d+/);
    const b = JSON.parse(await readFile(bundle, 'utf8'));
    expect(b.verificationMaterial.tlogEntries[0].kindVersion).toEqual({
      kind: 'hashedrekord',
      version: '0.0.1',
    });

    const [ok, other, identity, issuer, itself] = await Promise.all([
      sigilVerify(bundle),
      sigilVerify(bundle, { artifact: f('other.txt') }),
      sigilVerify(bundle, { identity: `${IDENTITY}-not` }),
      sigilVerify(bundle, { issuer: 'https://token.actions.githubusercontent.com' }),
      verify(bundle),
    ]);
    expect(ok.code, said(ok)).toBe(0);
    expect(ok.output).toContain('Verified OK');
    expect(other.code, said(other)).not.toBe(0);
    expect(other.output).toContain('DIGEST_MISMATCH');
    expect(identity.code, said(identity)).not.toBe(0);
    expect(issuer.code, said(issuer)).not.toBe(0);
    expect(itself.code, said(itself)).toBe(0);
  });

  it('attests (SLSA v1, DSSE) through sigil’s CA and log; sigil verify-blob accepts the statement’s subject', async () => {
    const bundle = f('python-attest.sigstore.json');
    const r = await runPeer(
      bin,
      [
        '--trust-config',
        trustConfig,
        'attest',
        '--identity-token',
        await identityToken(s.env),
        '--predicate-type',
        SLSA_V1,
        '--predicate',
        f('slsa.json'),
        '--bundle',
        bundle,
        f('artifact.txt'),
      ],
      env,
    );
    expect(r.code, said(r)).toBe(0);
    const b = JSON.parse(await readFile(bundle, 'utf8'));
    expect(b.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(b.verificationMaterial.tlogEntries[0].kindVersion.kind).toBe('dsse');

    const [ok, other] = await Promise.all([
      sigilVerify(bundle),
      sigilVerify(bundle, { artifact: f('other.txt') }),
    ]);
    expect(ok.code, said(ok)).toBe(0);
    expect(other.code, said(other)).not.toBe(0);
    expect(other.output).toContain('SUBJECT_MISMATCH');
  });

  it('signs into sigil’s Rekor v2 log with sigil’s TSA, and verifies sigil’s v2 bundle', async () => {
    // sigil's signing config as `sigil up --rekor-v2` writes it.
    const config = JSON.parse(await readFile(s.signingConfig, 'utf8'));
    config.rekorTlogUrls = config.rekorTlogUrls.map((u: Record<string, unknown>) => ({
      ...u,
      majorApiVersion: 2,
    }));
    const v2Config = f('client_trust_config-v2.json');
    await writeFile(
      v2Config,
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
        trustedRoot: JSON.parse(await readFile(s.trustedRoot, 'utf8')),
        signingConfig: config,
      }),
    );
    const bundle = f('python-v2.sigstore.json');
    const r = await runPeer(
      bin,
      [
        '--trust-config',
        v2Config,
        'sign',
        '--identity-token',
        await identityToken(s.env),
        '--bundle',
        bundle,
        f('artifact.txt'),
      ],
      env,
    );
    expect(r.code, said(r)).toBe(0);
    const b = JSON.parse(await readFile(bundle, 'utf8'));
    expect(b.verificationMaterial.tlogEntries[0].kindVersion).toEqual({
      kind: 'hashedrekord',
      version: '0.0.2',
    });
    expect(b.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    const ok = await sigilVerify(bundle);
    expect(ok.code, said(ok)).toBe(0);

    await writeFile(f('signing_config-v2.json'), JSON.stringify(config));
    const mine = f('sigil-v2.sigstore.json');
    const signed = await s.sigil(
      [
        'sign-blob',
        '--yes',
        '--signing-config',
        f('signing_config-v2.json'),
        '--bundle',
        mine,
        f('artifact.txt'),
      ],
      s.env,
    );
    expect(signed.code, said(signed)).toBe(0);
    const [theirs, wrong] = await Promise.all([verify(mine), verify(mine, { artifact: f('other.txt') })]);
    expect(theirs.code, said(theirs)).toBe(0);
    expect(wrong.code, said(wrong)).not.toBe(0);
  });
});
