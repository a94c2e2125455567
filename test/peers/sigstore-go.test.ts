// sigstore-go v1.2.1's conformance CLI (github.com/sigstore/sigstore-go/test/conformance, the sigstore-conformance
// client protocol) against a real `sigil up`: it verifies sigil's blob bundles (message signature over
// hashedrekord, and DSSE) with sigil's trusted root, refusing another artifact, identity or issuer; and it signs
// with sigil's CA and log, for `sigil verify-blob` to verify.
//
// What the CLI requires of a signing config: signBundle selects a timestamp authority from tsaUrls
// unconditionally (root.SelectServices(sc.TimestampAuthorityURLs(), …, sign.TimestampAuthorityAPIVersions=[1], …)),
// and SelectServices fails on an empty list. sigil runs no TSA and its signing_config.json lists none (an empty
// tsaUrls is valid: protobuf-specs signing_config.proto), so with sigil's own files sign-bundle stops there; the
// test asserts that, then signs again with a test-local RFC 3161 TSA (./tsa.ts) added to copies of the files.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePeer, IDENTITY, type PeerStack, runPeer, said, startPeerStack } from './peers.js';
import { startTestTsa, type TestTsa } from './tsa.js';

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
  let tsa: TestTsa;
  const f = (name: string) => join(s.work, name);

  beforeAll(async () => {
    s = await startPeerStack();
    tsa = await startTestTsa();
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
    await tsa?.stop();
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

  it('sign-bundle with sigil’s own signing config stops at selecting a timestamp authority (it lists none)', async () => {
    const r = await runPeer(
      bin,
      [
        'sign-bundle',
        '--identity-token',
        await identityToken(s.env),
        '--bundle',
        f('no-tsa.sigstore.json'),
        '--trusted-root',
        s.trustedRoot,
        '--signing-config',
        s.signingConfig,
        f('artifact.txt'),
      ],
      s.env,
    );
    expect(r.code, said(r)).toBe(1);
    // "services" and "[1]" are SelectServices over TimestampAuthorityAPIVersions; the CA's selection (SelectService)
    // says "service", and the log's lists [1 2].
    expect(r.stderr).toMatch(/no matching services found for API versions \[1\] and current time/);
    const config = JSON.parse(await readFile(s.signingConfig, 'utf8')) as { tsaUrls?: unknown[] };
    expect(config.tsaUrls ?? []).toEqual([]);
  });

  /** Copies of sigil's trusted root and signing config that also name the test TSA. */
  async function withTsa(): Promise<{ trustedRoot: string; signingConfig: string }> {
    const root = JSON.parse(await readFile(s.trustedRoot, 'utf8'));
    root.timestampAuthorities = [tsa.authority];
    const config = JSON.parse(await readFile(s.signingConfig, 'utf8'));
    config.tsaUrls = [
      {
        url: tsa.url,
        majorApiVersion: 1,
        validFor: { start: new Date(Date.now() - 3600_000).toISOString() },
        operator: 'sigil-tests',
      },
    ];
    const files = { trustedRoot: f('trusted_root+tsa.json'), signingConfig: f('signing_config+tsa.json') };
    await writeFile(files.trustedRoot, JSON.stringify(root));
    await writeFile(files.signingConfig, JSON.stringify(config));
    return files;
  }

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

  it('sign-bundle gets its certificate and log entry from sigil; sigil verify-blob accepts it', async () => {
    const trust = await withTsa();
    const issued = tsa.issued();
    const bundle = f('go-blob.sigstore.json');
    const r = await signBundle(trust, bundle, f('artifact.txt'));
    expect(r.code, said(r)).toBe(0);
    expect(tsa.issued()).toBe(issued + 1);
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
    const untrusted = await sigilVerify(bundle);
    expect(untrusted.code, said(untrusted)).not.toBe(0);
    expect(untrusted.output).toContain('was not issued by a timestamp authority in the trusted root');
  });

  it('sign-bundle --in-toto (DSSE over sigil’s log): sigil verify-blob accepts the statement’s subject', async () => {
    const trust = await withTsa();
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
