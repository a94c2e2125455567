// End to end against the sigil services on loopback, through the real `sigil` binary: keyless `sign` of an image
// (token → CA certificate → log entry → `.sig` tag layer + OCI referrer bundle), then `verify` offline from the
// stored trusted_root.json. The right identity passes; the wrong identity, issuer, GitHub claim, digest, a
// tampered payload and a signature logged in a log the trusted root does not name each fail with their own reason.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImageIndex, type ImageManifest, RegistryClient, signatureTag } from '../../src/oci/index.js';
import { stackRunners } from '../backend.js';
import {
  devToken,
  IDENTITY,
  pushImage,
  SHA,
  type Stack,
  sigil,
  startLogOnly,
  startStack,
  tempDir,
} from './helpers.js';

describe('sigil sign / verify images against the local stack', () => {
  let stack: Stack;
  let home: string;
  let token: string;
  const env = (more: Record<string, string> = {}) => ({ SIGIL_HOME: home, ...more });
  const client = new RegistryClient({ useAuthFiles: false });
  const keyless = () => ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', stack.url];

  beforeAll(async () => {
    stack = await startStack();
    home = await tempDir();
    const init = await sigil(['initialize', '--root', stack.url], env());
    expect(init.code, init.stderr).toBe(0);
    token = await devToken(stack.url);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function signed(repository: string, extra: string[] = []) {
    const digest = await pushImage(stack.host, repository, 'v1');
    const r = await sigil(
      ['sign', '--yes', '--identity-token', token, ...extra, `${stack.host}/${repository}:v1`],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    return { digest, stderr: r.stderr, ref: `${stack.host}/${repository}@${digest}` };
  }

  it('signs by tag (warning that it resolved it) and attaches both layouts', async () => {
    const { digest, stderr } = await signed('acme/app');
    expect(stderr).toContain(`resolved tag ${stack.host}/acme/app:v1 to ${digest}`);
    expect(stderr).toMatch(/tlog entry created with index: \d+/);
    const sig = await client.getManifest({
      registry: stack.host,
      repository: 'acme/app',
      tag: signatureTag(digest),
    });
    const ann = (sig.json as ImageManifest).layers[0].annotations!;
    expect(Object.keys(ann).sort()).toEqual([
      'dev.cosignproject.cosign/signature',
      'dev.sigstore.cosign/bundle',
      'dev.sigstore.cosign/certificate',
      'dev.sigstore.cosign/chain',
    ]);
    expect(JSON.parse(ann['dev.sigstore.cosign/bundle']).SignedEntryTimestamp).toBeTruthy();
    const refs = await client.referrers({ registry: stack.host, repository: 'acme/app', digest });
    expect(refs.manifests).toHaveLength(1);
    expect(refs.manifests[0].artifactType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(refs.manifests[0].annotations?.['dev.sigstore.bundle.content']).toBe('message-signature');
  });

  it('verifies with the right identity: cosign JSON on stdout, the checks on stderr', async () => {
    const { digest, ref } = await signed('acme/ok');
    const v = await sigil(['verify', ...keyless(), ref], env());
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toContain('The following checks were performed on each of these signatures:');
    expect(v.stderr).toContain('  - The cosign claims were validated');
    expect(v.stderr).toContain('  - Existence of the claims in the transparency log was verified offline');
    expect(v.stderr).toContain(
      '  - The code-signing certificate was verified using trusted certificate authority certificates',
    );
    const out = JSON.parse(v.stdout);
    expect(out).toHaveLength(1);
    expect(out[0].critical.image['docker-manifest-digest']).toBe(digest);
    expect(out[0].critical.identity['docker-reference']).toBe(`${stack.host}/acme/ok`);
    expect(out[0].optional.Subject).toBe(IDENTITY);
    expect(out[0].optional.Issuer).toBe(stack.url);
    expect(out[0].optional.githubWorkflowRepository).toBe('acme/widgets');
    expect(out[0].optional.Bundle.Payload.logIndex).toEqual(expect.any(Number));

    const claims = await sigil(
      [
        'verify',
        ...keyless(),
        '--certificate-github-workflow-repository',
        'acme/widgets',
        '--certificate-github-workflow-sha',
        SHA,
        '--certificate-github-workflow-ref',
        'refs/heads/main',
        ref,
      ],
      env(),
    );
    expect(claims.code, claims.stderr).toBe(0);
    const re = await sigil(
      [
        'verify',
        '--certificate-identity-regexp',
        '^https://github\\.com/acme/',
        '--certificate-oidc-issuer-regexp',
        '^http://127\\.0\\.0\\.1:',
        ref,
      ],
      env(),
    );
    expect(re.code, re.stderr).toBe(0);
  });

  it('each layout verifies on its own', async () => {
    const legacy = await signed('acme/legacy', ['--registry-referrers-mode', 'legacy']);
    const oci = await signed('acme/oci', ['--registry-referrers-mode', 'oci-1-1']);
    expect(
      await client.referrers({ registry: stack.host, repository: 'acme/legacy', digest: legacy.digest }),
    ).toMatchObject({ manifests: [] });
    expect(
      (await client.listTags({ registry: stack.host, repository: 'acme/oci' })).some((t) =>
        t.endsWith('.sig'),
      ),
    ).toBe(false);
    for (const { ref } of [legacy, oci]) {
      const v = await sigil(['verify', ...keyless(), ref], env());
      expect(v.code, v.stderr).toBe(0);
      expect(JSON.parse(v.stdout)).toHaveLength(1);
    }
  });

  it('fails on the wrong identity, issuer or GitHub claim, each with its reason', async () => {
    const { ref } = await signed('acme/policy');
    const wrongId = await sigil(
      [
        'verify',
        '--certificate-identity',
        'https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main',
        '--certificate-oidc-issuer',
        stack.url,
        ref,
      ],
      env(),
    );
    expect(wrongId.code).not.toBe(0);
    expect(wrongId.stderr).toContain(
      `certificate identity ${IDENTITY} does not match expected https://github.com/evil/repo`,
    );
    const wrongIssuer = await sigil(
      [
        'verify',
        '--certificate-identity',
        IDENTITY,
        '--certificate-oidc-issuer',
        'https://token.actions.githubusercontent.com',
        ref,
      ],
      env(),
    );
    expect(wrongIssuer.code).not.toBe(0);
    expect(wrongIssuer.stderr).toContain(
      `certificate OIDC issuer ${stack.url} does not match expected https://token.actions.githubusercontent.com`,
    );
    const wrongClaim = await sigil(
      ['verify', ...keyless(), '--certificate-github-workflow-ref', 'refs/tags/v9', ref],
      env(),
    );
    expect(wrongClaim.code).not.toBe(0);
    expect(wrongClaim.stderr).toContain(
      'certificate GitHub workflow ref refs/heads/main does not match expected refs/tags/v9',
    );
    const missing = await sigil(['verify', '--certificate-identity', IDENTITY, ref], env());
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(
      '--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required',
    );
  });

  it("fails when the signature is another image's (wrong digest)", async () => {
    const a = await signed('acme/pair', ['--registry-referrers-mode', 'legacy']);
    const bDigest = await pushImage(stack.host, 'acme/pair', 'v2', 'another layer');
    // Copy A's `.sig` manifest under B's signature tag: a valid signature, about the wrong digest.
    const sig = await client.getManifest({
      registry: stack.host,
      repository: 'acme/pair',
      tag: signatureTag(a.digest),
    });
    await client.putManifest(
      { registry: stack.host, repository: 'acme/pair', tag: signatureTag(bDigest) },
      sig.bytes,
      sig.mediaType,
    );
    const v = await sigil(['verify', ...keyless(), `${stack.host}/acme/pair@${bDigest}`], env());
    expect(v.code).not.toBe(0);
    expect(v.stderr).toContain(`the signature is for image ${a.digest}, not ${bDigest}`);
  });

  it('fails on a tampered payload', async () => {
    const { digest, ref } = await signed('acme/tamper', ['--registry-referrers-mode', 'legacy']);
    const repo = { registry: stack.host, repository: 'acme/tamper' };
    const tagRef = { ...repo, tag: signatureTag(digest) };
    const m = (await client.getManifest(tagRef)).json as ImageManifest;
    const payload = JSON.parse((await client.getBlobBytes(repo, m.layers[0].digest)).toString());
    payload.optional = { approved: 'yes' };
    const forged = Buffer.from(JSON.stringify(payload));
    const { createHash } = await import('node:crypto');
    const fd = `sha256:${createHash('sha256').update(forged).digest('hex')}`;
    await client.uploadBlob(repo, { digest: fd, size: forged.length, open: () => forged });
    m.layers[0] = { ...m.layers[0], digest: fd, size: forged.length };
    await client.putManifest(tagRef, m);
    const v = await sigil(['verify', ...keyless(), ref], env());
    expect(v.code).not.toBe(0);
    expect(v.stderr).toMatch(
      /signature over the artifact does not verify|transparency log entry .* artifact digest/,
    );
  });

  it('fails on a signature logged in a log the trusted root does not name', async () => {
    const other = await startLogOnly();
    try {
      const { ref } = await signed('acme/otherlog', ['--rekor-url', other.url]);
      const v = await sigil(['verify', ...keyless(), ref], env());
      expect(v.code).not.toBe(0);
      expect(v.stderr).toMatch(/transparency log [0-9a-f]{64} is not in the trusted root/);
    } finally {
      await other.stop();
    }
  });

  it("gets its token through the GitHub Actions request protocol from sigil's issuer", async () => {
    const secret = await (await stackRunners(stack.dataDir)).add('e2e', {
      repository: 'acme/actions',
      workflow: '.github/workflows/ci.yml',
      ref: 'refs/heads/main',
      sha: SHA,
    });
    const digest = await pushImage(stack.host, 'acme/actions', 'v1');
    const r = await sigil(
      ['sign', '--yes', `${stack.host}/acme/actions@${digest}`],
      env({
        ACTIONS_ID_TOKEN_REQUEST_URL: `${stack.url}/oidc/token?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: secret,
      }),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Using an identity token from github-actions');
    const v = await sigil(
      [
        'verify',
        '--certificate-identity',
        'https://github.com/acme/actions/.github/workflows/ci.yml@refs/heads/main',
        '--certificate-oidc-issuer',
        stack.url,
        `${stack.host}/acme/actions@${digest}`,
      ],
      env(),
    );
    expect(v.code, v.stderr).toBe(0);
  });

  it('attests and verifies attestations, filtered by predicate type', async () => {
    const digest = await pushImage(stack.host, 'acme/attested', 'v1');
    const dir = await tempDir();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      join(dir, 'prov.json'),
      JSON.stringify({ buildType: 'https://example.com/build@v1', builder: { id: 'local' } }),
    );
    const ref = `${stack.host}/acme/attested@${digest}`;
    const a = await sigil(
      [
        'attest',
        '--yes',
        '--identity-token',
        token,
        '--predicate',
        join(dir, 'prov.json'),
        '--type',
        'slsaprovenance',
        ref,
      ],
      env(),
    );
    expect(a.code, a.stderr).toBe(0);
    const att = await client.getManifest({
      registry: stack.host,
      repository: 'acme/attested',
      tag: signatureTag(digest).replace(/\.sig$/, '.att'),
    });
    expect((att.json as ImageManifest).layers[0].annotations?.predicateType).toBe(
      'https://slsa.dev/provenance/v0.2',
    );
    const refs = (await client.referrers({ registry: stack.host, repository: 'acme/attested', digest })) as {
      manifests: ImageIndex['manifests'];
    };
    expect(refs.manifests[0].annotations?.['dev.sigstore.bundle.content']).toBe('dsse-envelope');

    const v = await sigil(['verify-attestation', ...keyless(), '--type', 'slsaprovenance', ref], env());
    expect(v.code, v.stderr).toBe(0);
    const envelope = JSON.parse(v.stdout.trim().split('\n')[0]);
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
    expect(statement.subject[0].digest.sha256).toBe(digest.slice(7));
    expect(statement.predicate.builder.id).toBe('local');

    const wrongType = await sigil(['verify-attestation', ...keyless(), '--type', 'cyclonedx', ref], env());
    expect(wrongType.code).not.toBe(0);
    expect(wrongType.stderr).toContain(
      'predicate type is https://slsa.dev/provenance/v0.2, not https://cyclonedx.org/bom',
    );
    // An image's attestation is not its signature.
    const asSig = await sigil(['verify', ...keyless(), ref], env());
    expect(asSig.code).not.toBe(0);
    expect(asSig.stderr).toContain('no signatures found');
  });

  it('key-based signing with the log: verify --key checks the log entry too', async () => {
    const dir = await tempDir();
    const e = env({ COSIGN_PASSWORD: 'pw' });
    expect((await sigil(['generate-key-pair', '--output-key-prefix', join(dir, 'cosign')], e)).code).toBe(0);
    const digest = await pushImage(stack.host, 'acme/keyed', 'v1');
    const ref = `${stack.host}/acme/keyed@${digest}`;
    const s = await sigil(['sign', '--yes', '--key', join(dir, 'cosign.key'), ref], e);
    expect(s.code, s.stderr).toBe(0);
    const v = await sigil(['verify', '--key', join(dir, 'cosign.pub'), ref], e);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toContain('Existence of the claims in the transparency log was verified offline');
    const wrongPass = await sigil(
      ['sign', '--yes', '--key', join(dir, 'cosign.key'), ref],
      env({ COSIGN_PASSWORD: 'nope' }),
    );
    expect(wrongPass.code).not.toBe(0);
    expect(wrongPass.stderr).toContain('wrong password');
  });
});
