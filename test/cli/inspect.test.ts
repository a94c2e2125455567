// initialize, tree, triangulate and download against the local stack through the real binary: trust files from a
// base URL or a file (parallel runs into one dir leave whole files and no litter; verification writes nothing to
// the trust dir, so a read-only home works), and the views of what is attached to a signed and attested image.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken, IDENTITY, pushImage, type Stack, sigil, startStack, tempDir } from '../sign/helpers.js';

describe('initialize, tree, triangulate, download', () => {
  let stack: Stack;
  let home: string;
  let digest: string;
  let ref: string;
  const env = () => ({ SIGIL_HOME: home });

  beforeAll(async () => {
    stack = await startStack();
    home = await tempDir();
    expect((await sigil(['initialize', '--root', stack.url], env())).code).toBe(0);
    digest = await pushImage(stack.host, 'acme/inspect', 'v1');
    ref = `${stack.host}/acme/inspect@${digest}`;
    const token = await devToken(stack.url);
    expect((await sigil(['sign', '--yes', '--identity-token', token, ref], env())).code).toBe(0);
    await writeFile(join(home, 'sbom.json'), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5' }));
    const a = await sigil(
      [
        'attest',
        '--yes',
        '--identity-token',
        token,
        '--type',
        'cyclonedx',
        '--predicate',
        join(home, 'sbom.json'),
        ref,
      ],
      env(),
    );
    expect(a.code, a.stderr).toBe(0);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('initialize stores the server trust files; parallel runs leave whole files and nothing else', async () => {
    const dir = await tempDir();
    const runs = await Promise.all(
      [1, 2, 3, 4].map(() =>
        sigil(['initialize', '--root', `${stack.url}/trusted_root.json`], { SIGIL_TRUST_DIR: dir }),
      ),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['signing_config.json', 'trusted_root.json']);
    const served = await (await fetch(`${stack.url}/trusted_root.json`)).json();
    expect(JSON.parse(await readFile(join(dir, 'trusted_root.json'), 'utf8'))).toEqual(served);
    // From a file, with the signing config next to it.
    const fromFile = await tempDir();
    const r = await sigil(['initialize', '--root', join(dir, 'trusted_root.json')], { SIGIL_HOME: fromFile });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`CA: ${stack.url}`);
    const bad = await sigil(['initialize', '--root', join(dir, 'signing_config.json')], {
      SIGIL_HOME: fromFile,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('trusted root: unexpected mediaType');
    const none = await sigil(
      ['verify', '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', stack.url, ref],
      { SIGIL_HOME: join(fromFile, 'nothing') },
    );
    expect(none.stderr).toContain('no trusted root in');
  });

  it('verification writes nothing into the trust dir (a read-only home works)', async () => {
    const before = await Promise.all(
      (await readdir(home)).map(async (f) => [f, (await stat(join(home, f))).mtimeMs]),
    );
    const v = await sigil(
      ['verify', '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', stack.url, ref],
      env(),
    );
    expect(v.code, v.stderr).toBe(0);
    const after = await Promise.all(
      (await readdir(home)).map(async (f) => [f, (await stat(join(home, f))).mtimeMs]),
    );
    expect(after).toEqual(before);
  });

  it('triangulate names the tags and the digest', async () => {
    const hex = digest.slice(7);
    expect((await sigil(['triangulate', ref], env())).stdout).toBe(
      `${stack.host}/acme/inspect:sha256-${hex}.sig\n`,
    );
    expect(
      (await sigil(['triangulate', '--type', 'attestation', `${stack.host}/acme/inspect:v1`], env())).stdout,
    ).toBe(`${stack.host}/acme/inspect:sha256-${hex}.att\n`);
    expect(
      (await sigil(['triangulate', '--type', 'digest', `${stack.host}/acme/inspect:v1`], env())).stdout,
    ).toBe(`${ref}\n`);
    expect((await sigil(['triangulate', '--type', 'nope', ref], env())).stderr).toContain('--type must be');
  });

  it('tree lists the .sig and .att tags and both referrers', async () => {
    const r = await sigil(['tree', ref], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`📦 Supply Chain Security Related artifacts for an image: ${ref}`);
    expect(r.stdout).toContain(
      `└── 🔐 Signatures for an image tag: ${stack.host}/acme/inspect:sha256-${digest.slice(7)}.sig`,
    );
    expect(r.stdout).toContain('└── 💾 Attestations for an image tag:');
    expect(r.stdout).toContain('└── 🔗 https://cyclonedx.org/bom artifacts via OCI referrer:');
    expect(r.stdout).toContain(
      '└── 🔗 application/vnd.dev.sigstore.bundle.v0.3+json artifacts via OCI referrer:',
    );
    const bare = await pushImage(stack.host, 'acme/bare', 'v1');
    expect((await sigil(['tree', `${stack.host}/acme/bare@${bare}`], env())).stdout).toContain(
      'No Supply Chain Security Related Artifacts found',
    );
  });

  // cosign download sbom prints the layers of the image's .sbom tag (as `cosign attach sbom` pushes them).
  it('download sbom prints the SBOM of the .sbom tag, and says when there is none', async () => {
    const { RegistryClient, OCI_EMPTY, OCI_EMPTY_DIGEST, OCI_MANIFEST } = await import(
      '../../src/oci/index.js'
    );
    const { createHash } = await import('node:crypto');
    const client = new RegistryClient({ useAuthFiles: false });
    const sbomImage = await pushImage(stack.host, 'acme/with-sbom', 'v1');
    const repo = { registry: stack.host, repository: 'acme/with-sbom' };
    const sbom = Buffer.from('{"spdxVersion":"SPDX-2.3","name":"with-sbom"}');
    const sbomDigest = `sha256:${createHash('sha256').update(sbom).digest('hex')}`;
    const empty = Buffer.from('{}');
    await client.uploadBlob(repo, { digest: sbomDigest, size: sbom.length, open: () => sbom });
    await client.uploadBlob(repo, { digest: OCI_EMPTY_DIGEST, size: 2, open: () => empty });
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_EMPTY, digest: OCI_EMPTY_DIGEST, size: 2 },
      layers: [{ mediaType: 'text/spdx+json', digest: sbomDigest, size: sbom.length }],
    };
    await client.putManifest(
      { ...repo, tag: `sha256-${sbomImage.slice(7)}.sbom` },
      Buffer.from(JSON.stringify(manifest)),
      OCI_MANIFEST,
    );
    const r = await sigil(['download', 'sbom', `${stack.host}/acme/with-sbom@${sbomImage}`], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(sbom.toString());
    expect(r.stderr).toBe('Found 1 SBOM of type: text/spdx+json\n');
    const none = await sigil(['download', 'sbom', ref], env());
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no SBOMs found attached to');
  });

  it('download prints the referrer bundles, or the .sig layers when there are none', async () => {
    const sig = await sigil(['download', 'signature', ref], env());
    expect(sig.code, sig.stderr).toBe(0);
    const lines = sig.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0].mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    const att = await sigil(['download', 'attestation', ref], env());
    expect(JSON.parse(att.stdout).dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');

    const legacyDigest = await pushImage(stack.host, 'acme/legacy-dl', 'v1');
    const legacyRef = `${stack.host}/acme/legacy-dl@${legacyDigest}`;
    const token = await devToken(stack.url);
    expect(
      (
        await sigil(
          ['sign', '--yes', '--registry-referrers-mode', 'legacy', '--identity-token', token, legacyRef],
          env(),
        )
      ).code,
    ).toBe(0);
    const legacy = JSON.parse((await sigil(['download', 'signature', legacyRef], env())).stdout);
    expect(Object.keys(legacy)).toEqual([
      'Base64Signature',
      'Payload',
      'Cert',
      'Chain',
      'Bundle',
      'RFC3161Timestamp',
    ]);
    expect(
      JSON.parse(Buffer.from(legacy.Payload, 'base64').toString()).critical.image['docker-manifest-digest'],
    ).toBe(legacyDigest);
    expect(legacy.Cert).toContain('BEGIN CERTIFICATE');
    expect(legacy.Bundle.SignedEntryTimestamp).toBeTruthy();
    const bare = await pushImage(stack.host, 'acme/bare-dl', 'v1');
    const none = await sigil(['download', 'signature', `${stack.host}/acme/bare-dl@${bare}`], env());
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('no signatures found');
  });
});
