// sigstore-go v1.2.1's conformance CLI (github.com/sigstore/sigstore-go/test/conformance, the sigstore-conformance
// client protocol) against a real `sigil up`: it verifies sigil's blob bundles (message signature over
// hashedrekord, and DSSE) with sigil's trusted root, refusing another artifact, identity or issuer; and it signs
// with sigil's CA, its Rekor v1 or v2 log and its TSA, for `sigil verify-blob` to verify, and verifies what sigil
// signs against the v2 log. The CLI's signBundle needs a TSA in the signing config (it selects one from tsaUrls
// unconditionally); sigil's lists its own.
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

describePeer('sigstore-go', 'sigstore-go conformance CLI against sigil', (bin) => {
  let s: PeerStack;
  const f = (name: string) => join(s.work, name);

  beforeAll(async () => {
    s = await startPeerStack();
    await writeFile(f('artifact.txt'), 'release 1.0 of django-keyless\n');
    await writeFile(f('other.txt'), 'something else\n');
    await writeFile(f('predicate.json'), '{"builder": "sigil peers test"}\n');
    const signed = await s.sigil(
      ['sign-blob', '--yes', '--bundle', f('blob.sigstore.json'), f('artifact.txt')],
      s.env,
    );
    expect(signed.code, said(signed)).toBe(0);
    const attested = await s.sigil(
      [
        'attest-blob',
        '--yes',
        '--predicate',
        f('predicate.json'),
        '--bundle',
        f('attest.sigstore.json'),
        f('artifact.txt'),
      ],
      s.env,
    );
    expect(attested.code, said(attested)).toBe(0);
  });

  afterAll(async () => {
    await s?.stop();
  });

  const verifyBundle = (bundle: string, o: { artifact?: string; identity?: string; issuer?: string } = {}) =>
    runPeer(
      bin,
      [
        'verify-bundle',
        '--bundle',
        bundle,
        ...s.who(o.identity, o.issuer),
        '--trusted-root',
        s.trustedRoot,
        o.artifact ?? f('artifact.txt'),
      ],
      s.env,
    );

  const sigilVerify = (
    bundle: string,
    o: { artifact?: string; identity?: string; trustedRoot?: string } = {},
  ) =>
    s.sigil([
      'verify-blob',
      '--bundle',
      bundle,
      ...s.who(o.identity),
      '--trusted-root',
      o.trustedRoot ?? s.trustedRoot,
      o.artifact ?? f('artifact.txt'),
    ]);

  for (const [kind, file, wrongArtifact] of [
    ['sign-blob (hashedrekord)', 'blob.sigstore.json', /failed to verify signature/],
    ['attest-blob (DSSE)', 'attest.sigstore.json', /artifact digests do not match digests in statement/],
  ] as const) {
    it(`verify-bundle accepts sigil ${kind} and refuses another artifact, identity or issuer`, async () => {
      const ok = await verifyBundle(f(file));
      expect(ok.code, said(ok)).toBe(0);

      const other = await verifyBundle(f(file), { artifact: f('other.txt') });
      expect(other.code, said(other)).toBe(1);
      expect(other.stderr).toMatch(wrongArtifact);

      const identity = await verifyBundle(f(file), { identity: `${IDENTITY}-not` });
      expect(identity.code, said(identity)).toBe(1);
      expect(identity.stderr).toContain(`expected SAN value "${IDENTITY}-not", got "${IDENTITY}"`);

      const issuer = await verifyBundle(f(file), { issuer: 'https://token.actions.githubusercontent.com' });
      expect(issuer.code, said(issuer)).toBe(1);
      expect(issuer.stderr).toContain(
        `expected issuer value "https://token.actions.githubusercontent.com", got "${s.url}"`,
      );
    });
  }

  /** sigil's signing config as `sigil up --rekor-v2` writes it: the Rekor v2 log (and the TSA, listed anyway). */
  async function v2Config(): Promise<{ trustedRoot: string; signingConfig: string }> {
    const config = JSON.parse(await readFile(s.signingConfig, 'utf8'));
    config.rekorTlogUrls = config.rekorTlogUrls.map((u: Record<string, unknown>) => ({
      ...u,
      majorApiVersion: 2,
    }));
    const signingConfig = f('signing_config-v2.json');
    await writeFile(signingConfig, JSON.stringify(config));
    return { trustedRoot: s.trustedRoot, signingConfig };
  }
  const own = () => ({ trustedRoot: s.trustedRoot, signingConfig: s.signingConfig });

  /** The conformance protocol's sign-bundle with a token from the stack's runner, against the given trust files. */
  const signBundle = async (
    trust: { trustedRoot: string; signingConfig: string },
    bundle: string,
    artifact: string,
    extra: string[] = [],
  ) =>
    runPeer(
      bin,
      [
        'sign-bundle',
        ...extra,
        '--identity-token',
        await identityToken(s.env),
        '--bundle',
        bundle,
        '--trusted-root',
        trust.trustedRoot,
        '--signing-config',
        trust.signingConfig,
        artifact,
      ],
      s.env,
    );

  it('sign-bundle gets its certificate, log entry and timestamp from sigil; sigil verify-blob accepts it', async () => {
    const trust = own();
    const bundle = f('go-blob.sigstore.json');
    const r = await signBundle(trust, bundle, f('artifact.txt'));
    expect(r.code, said(r)).toBe(0);
    const b = JSON.parse(await readFile(bundle, 'utf8'));
    expect(b.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(b.verificationMaterial.tlogEntries[0].kindVersion).toEqual({
      kind: 'hashedrekord',
      version: '0.0.1',
    });
    expect(b.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);

    const ok = await sigilVerify(bundle, { trustedRoot: trust.trustedRoot });
    expect(ok.code, said(ok)).toBe(0);
    const other = await sigilVerify(bundle, { trustedRoot: trust.trustedRoot, artifact: f('other.txt') });
    expect(other.code, said(other)).not.toBe(0);
    expect(other.output).toContain('DIGEST_MISMATCH');
    const identity = await sigilVerify(bundle, {
      trustedRoot: trust.trustedRoot,
      identity: `${IDENTITY}-not`,
    });
    expect(identity.code, said(identity)).not.toBe(0);
    // A signed timestamp from an authority the trusted root does not list is refused, not skipped.
    const root = JSON.parse(await readFile(s.trustedRoot, 'utf8'));
    root.timestampAuthorities = [];
    await writeFile(f('trusted_root-no-tsa.json'), JSON.stringify(root));
    const untrusted = await sigilVerify(bundle, { trustedRoot: f('trusted_root-no-tsa.json') });
    expect(untrusted.code, said(untrusted)).not.toBe(0);
    expect(untrusted.output).toContain('was not issued by a timestamp authority in the trusted root');
  });

  it('sign-bundle with the Rekor v2 config logs to sigil’s v2 log with sigil’s TSA; sigil and sigstore-go verify it', async () => {
    const trust = await v2Config();
    for (const [name, artifact, extra] of [
      ['go-v2-blob.sigstore.json', f('artifact.txt'), []],
      ['go-v2-attest.sigstore.json', f('statement-v2.json'), ['--in-toto']],
    ] as const) {
      if (extra.length) {
        const digest = createHash('sha256')
          .update(await readFile(f('artifact.txt')))
          .digest('hex');
        await writeFile(
          artifact,
          JSON.stringify({
            _type: 'https://in-toto.io/Statement/v1',
            subject: [{ name: 'artifact.txt', digest: { sha256: digest } }],
            predicateType: 'https://slsa.dev/provenance/v1',
            predicate: { buildDefinition: { buildType: 'https://sigil.test/build/v1' }, runDetails: {} },
          }),
        );
      }
      const bundle = f(name);
      const r = await signBundle(trust, bundle, artifact, [...extra]);
      expect(r.code, said(r)).toBe(0);
      const b = JSON.parse(await readFile(bundle, 'utf8'));
      // DSSE too is logged as a hashedrekord over its PAE by current clients.
      expect(b.verificationMaterial.tlogEntries[0].kindVersion).toEqual({
        kind: 'hashedrekord',
        version: '0.0.2',
      });
      expect(b.verificationMaterial.tlogEntries[0].inclusionPromise).toBeUndefined();
      expect(b.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
      const ok = await sigilVerify(bundle);
      expect(ok.code, said(ok)).toBe(0);
      const goOk = await verifyBundle(bundle);
      expect(goOk.code, said(goOk)).toBe(0);
    }
  });

  it('verify-bundle accepts what sigil signs with the Rekor v2 log and the TSA', async () => {
    const trust = await v2Config();
    const bundle = f('sigil-v2.sigstore.json');
    const signed = await s.sigil(
      ['sign-blob', '--yes', '--signing-config', trust.signingConfig, '--bundle', bundle, f('artifact.txt')],
      s.env,
    );
    expect(signed.code, said(signed)).toBe(0);
    const b = JSON.parse(await readFile(bundle, 'utf8'));
    expect(b.verificationMaterial.tlogEntries[0].kindVersion.version).toBe('0.0.2');
    const ok = await verifyBundle(bundle);
    expect(ok.code, said(ok)).toBe(0);
    const other = await verifyBundle(bundle, { artifact: f('other.txt') });
    expect(other.code, said(other)).toBe(1);
  });

  it('sign-bundle --in-toto (DSSE over sigil’s log): sigil verify-blob accepts the statement’s subject', async () => {
    const trust = own();
    const digest = createHash('sha256')
      .update(await readFile(f('artifact.txt')))
      .digest('hex');
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'artifact.txt', digest: { sha256: digest } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: { buildType: 'https://sigil.test/build/v1' }, runDetails: {} },
    };
    await writeFile(f('statement.json'), JSON.stringify(statement));
    const bundle = f('go-attest.sigstore.json');
    const r = await signBundle(trust, bundle, f('statement.json'), ['--in-toto']);
    expect(r.code, said(r)).toBe(0);
    const b = JSON.parse(await readFile(bundle, 'utf8'));
    expect(b.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(b.verificationMaterial.tlogEntries[0].kindVersion.kind).toBe('dsse');

    const ok = await sigilVerify(bundle, { trustedRoot: trust.trustedRoot });
    expect(ok.code, said(ok)).toBe(0);
    const other = await sigilVerify(bundle, { trustedRoot: trust.trustedRoot, artifact: f('other.txt') });
    expect(other.code, said(other)).not.toBe(0);
    expect(other.output).toContain('SUBJECT_MISMATCH');
  });
});
