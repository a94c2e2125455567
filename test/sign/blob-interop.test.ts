// sigstore-js as the peer on both sides of blob signing, against the sigil services on loopback:
// - our `sigil sign-blob` and `sigil attest-blob` bundles (v0.3, keyless, logged) verify with sigstore-js'
//   Verifier and our trusted_root.json; a different artifact or identity fails there too;
// - bundles sigstore-js signs with our CA and log verify with sigil's verifier core, and a tampered one does not.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { attest, sign } from 'sigstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedRoot } from '../../src/trust/index.js';
import { loadTrustMaterial, verifyBundle } from '../../src/verify/index.js';
import { devToken, IDENTITY, type Stack, sigil, startStack, tempDir } from './helpers.js';

describe('blob bundles: sigil ⇄ sigstore-js', () => {
  let stack: Stack;
  let home: string;
  let token: string;
  let trustedRoot: unknown;
  const artifact = Buffer.from('release tarball bytes\n');

  beforeAll(async () => {
    stack = await startStack();
    home = await tempDir();
    expect((await sigil(['initialize', '--root', stack.url], { SIGIL_HOME: home })).code).toBe(0);
    trustedRoot = JSON.parse(await readFile(join(home, 'trusted_root.json'), 'utf8'));
    token = await devToken(stack.url);
    await writeFile(join(home, 'artifact.txt'), artifact);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const jsVerifier = () => new Verifier(toTrustMaterial(parseTrustedRoot(trustedRoot)));
  const policy = () => ({ subjectAlternativeName: IDENTITY, extensions: { issuer: stack.url } });

  it('sigstore-js verifies a sigil sign-blob bundle (message signature, hashedrekord)', async () => {
    const bundlePath = join(home, 'blob.sigstore.json');
    const r = await sigil(
      ['sign-blob', '--yes', '--identity-token', token, '--bundle', bundlePath, join(home, 'artifact.txt')],
      { SIGIL_HOME: home },
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(await readFile(bundlePath, 'utf8'));
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(json.verificationMaterial.tlogEntries[0].kindVersion).toEqual({
      kind: 'hashedrekord',
      version: '0.0.1',
    });
    expect(r.stdout.trim()).toBe(json.messageSignature.signature);

    const signer = jsVerifier().verify(toSignedEntity(bundleFromJSON(json), artifact), policy());
    expect(signer.identity?.subjectAlternativeName).toBe(IDENTITY);
    expect(() =>
      jsVerifier().verify(toSignedEntity(bundleFromJSON(json), Buffer.from('other')), policy()),
    ).toThrow();
    expect(() =>
      jsVerifier().verify(toSignedEntity(bundleFromJSON(json), artifact), {
        ...policy(),
        subjectAlternativeName: 'someone@else',
      }),
    ).toThrow(/certificate identity error/);
  });

  it('sigstore-js verifies a sigil attest-blob bundle (DSSE in-toto statement, dsse entry)', async () => {
    await writeFile(
      join(home, 'predicate.json'),
      JSON.stringify({ buildType: 'make', builder: { id: 'ci' } }),
    );
    const bundlePath = join(home, 'att.sigstore.json');
    const r = await sigil(
      [
        'attest-blob',
        '--yes',
        '--identity-token',
        token,
        '--type',
        'slsaprovenance1',
        '--predicate',
        join(home, 'predicate.json'),
        '--bundle',
        bundlePath,
        join(home, 'artifact.txt'),
      ],
      { SIGIL_HOME: home },
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(await readFile(bundlePath, 'utf8'));
    expect(json.verificationMaterial.tlogEntries[0].kindVersion.kind).toBe('dsse');
    const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString());
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.subject[0]).toEqual({
      name: 'artifact.txt',
      digest: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    jsVerifier().verify(toSignedEntity(bundleFromJSON(json)), policy());
    // And sigil's own verifier, with the artifact as the statement's subject.
    const ours = verifyBundle(
      json,
      artifact,
      { identity: { subjectAlternativeName: IDENTITY, issuer: stack.url } },
      loadTrustMaterial(trustedRoot),
    );
    expect(ours.checks).toContain('in-toto-subject');
  });

  it('sigil verifies bundles sigstore-js signed with our CA and log; a tampered one fails', async () => {
    const opts = { fulcioURL: stack.url, rekorURL: stack.url, identityToken: token, retry: 0 };
    const trust = loadTrustMaterial(trustedRoot);
    const id = { identity: { subjectAlternativeName: IDENTITY, issuer: stack.url } };
    const signed = await sign(artifact, opts);
    const result = verifyBundle(signed, artifact, id, trust);
    expect(result.checks).toEqual(
      expect.arrayContaining(['signature', 'tlog-inclusion-proof', 'certificate-chain', 'sct', 'identity']),
    );
    expect(() => verifyBundle(signed, Buffer.from('tampered'), id, trust)).toThrow(/digest/);

    const attested = await attest(
      Buffer.from(
        JSON.stringify({
          _type: 'https://in-toto.io/Statement/v1',
          subject: [],
          predicateType: 'x',
          predicate: {},
        }),
      ),
      'application/vnd.in-toto+json',
      opts,
    );
    expect(verifyBundle(attested, undefined, id, trust).checks).toContain('signature');

    // The verify-blob command (the verifier's CLI) reads what sigstore-js wrote, when it is there.
    const bundlePath = join(home, 'js.sigstore.json');
    await writeFile(bundlePath, JSON.stringify(signed));
    const v = await sigil(
      [
        'verify-blob',
        '--bundle',
        bundlePath,
        '--certificate-identity',
        IDENTITY,
        '--certificate-oidc-issuer',
        stack.url,
        join(home, 'artifact.txt'),
      ],
      { SIGIL_HOME: home, SIGIL_TRUSTED_ROOT: join(home, 'trusted_root.json') },
    );
    if (!v.stderr.includes("unknown command 'verify-blob'")) {
      const withRoot =
        v.code === 0
          ? v
          : await sigil(
              [
                'verify-blob',
                '--bundle',
                bundlePath,
                '--trusted-root',
                join(home, 'trusted_root.json'),
                '--certificate-identity',
                IDENTITY,
                '--certificate-oidc-issuer',
                stack.url,
                join(home, 'artifact.txt'),
              ],
              { SIGIL_HOME: home },
            );
      expect(withRoot.code, withRoot.stderr).toBe(0);
    }
  });
});
