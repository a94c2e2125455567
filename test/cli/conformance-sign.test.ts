// bin/sigil-conformance sign-bundle (sigstore/sigstore-conformance docs/cli_protocol.md) against the local stack:
// services from --signing-config, the bundle verified by the same entrypoint's verify-bundle and by sigstore-js; on
// the Rekor v1 path (the sign helpers' stack) and on the Rekor v2 + TSA path (`sigil up --rekor-v2`).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedRoot } from '../../src/trust/index.js';
import { IDENTITY as JOB_IDENTITY, type PeerStack, startPeerStack } from '../peers/peers.js';
import { devToken, IDENTITY, ROOT, type Stack, startStack, tempDir } from '../sign/helpers.js';

const run = promisify(execFile);
const conformance = (args: string[]) =>
  run(process.execPath, [join(ROOT, 'bin/sigil-conformance'), ...args], {
    env: { PATH: process.env.PATH, HOME: '/nonexistent' },
  });

describe('sigil-conformance sign-bundle', () => {
  let stack: Stack;
  let dir: string;

  beforeAll(async () => {
    stack = await startStack();
    dir = await tempDir();
    for (const f of ['trusted_root.json', 'signing_config.json']) {
      await writeFile(join(dir, f), await (await fetch(`${stack.url}/${f}`)).text());
    }
    await writeFile(join(dir, 'a.txt'), 'conformance artifact\n');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('signs with the services of --signing-config; verify-bundle and sigstore-js accept it', async () => {
    const token = await devToken(stack.url);
    const bundle = join(dir, 'a.sigstore.json');
    await conformance([
      'sign-bundle',
      '--identity-token',
      token,
      '--bundle',
      bundle,
      '--signing-config',
      join(dir, 'signing_config.json'),
      '--trusted-root',
      join(dir, 'trusted_root.json'),
      join(dir, 'a.txt'),
    ]);
    await conformance([
      'verify-bundle',
      '--bundle',
      bundle,
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      stack.url,
      '--trusted-root',
      join(dir, 'trusted_root.json'),
      join(dir, 'a.txt'),
    ]);
    const json = JSON.parse(await readFile(bundle, 'utf8'));
    const trust = toTrustMaterial(
      parseTrustedRoot(JSON.parse(await readFile(join(dir, 'trusted_root.json'), 'utf8'))),
    );
    new Verifier(trust).verify(toSignedEntity(bundleFromJSON(json), await readFile(join(dir, 'a.txt'))), {
      subjectAlternativeName: IDENTITY,
      extensions: { issuer: stack.url },
    });
  });

  it('fails with the reason on missing flags or a bad token', async () => {
    await expect(
      conformance(['sign-bundle', '--bundle', join(dir, 'x.json'), join(dir, 'a.txt')]),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('sign-bundle needs --identity-token TOKEN'),
    });
    await expect(
      conformance([
        'sign-bundle',
        '--identity-token',
        'not-a-jwt',
        '--bundle',
        join(dir, 'x.json'),
        '--signing-config',
        join(dir, 'signing_config.json'),
        join(dir, 'a.txt'),
      ]),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('identity token is not a JWT') });
  });
});

describe('sigil-conformance sign-bundle on the Rekor v2 path', () => {
  let s: PeerStack;
  beforeAll(async () => {
    s = await startPeerStack({ args: ['--rekor-v2'] });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('logs to the v2 log with a TSA timestamp, as the signing config says; verify-bundle and sigstore-js accept it', async () => {
    const res = await fetch(`${s.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=sigstore`, {
      headers: { authorization: `bearer ${s.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
    });
    const token = ((await res.json()) as { value: string }).value;
    const artifact = join(s.work, 'artifact.txt');
    const bundle = join(s.work, 'conformance-v2.sigstore.json');
    await conformance([
      'sign-bundle',
      '--identity-token',
      token,
      '--bundle',
      bundle,
      '--signing-config',
      s.signingConfig,
      '--trusted-root',
      s.trustedRoot,
      artifact,
    ]);
    const json = JSON.parse(await readFile(bundle, 'utf8'));
    expect(json.verificationMaterial.tlogEntries[0].kindVersion).toEqual({
      kind: 'hashedrekord',
      version: '0.0.2',
    });
    expect(json.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    await conformance([
      'verify-bundle',
      '--bundle',
      bundle,
      '--certificate-identity',
      JOB_IDENTITY,
      '--certificate-oidc-issuer',
      s.url,
      '--trusted-root',
      s.trustedRoot,
      artifact,
    ]);
    const trust = toTrustMaterial(parseTrustedRoot(JSON.parse(await readFile(s.trustedRoot, 'utf8'))));
    new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }).verify(
      toSignedEntity(bundleFromJSON(json), await readFile(artifact)),
      { subjectAlternativeName: JOB_IDENTITY, extensions: { issuer: s.url } },
    );
  });
});
