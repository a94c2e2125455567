// Interop with the real sigstore-js client: it gets a token from sigil's CI issuer through the GitHub Actions
// request protocol (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN), a certificate from sigil's CA and an entry in sigil's
// transparency log, and the bundle it produces verifies offline with sigil's trusted_root.json through
// sigstore-js' Verifier: chain, embedded SCT against our CT log key, tlog inclusion + SET, signature, and an
// identity + issuer policy.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundleFromJSON } from '@sigstore/bundle';
import { X509Certificate as SigstoreX509 } from '@sigstore/core';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { sign } from 'sigstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSigningConfig, parseTrustedRoot } from '../../src/trust/index.js';
import { type RunningCa, startCa } from './helpers.js';

const run = promisify(execFile);
const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('sigstore-js against sigil CA + CI issuer', () => {
  let ca: RunningCa;
  let secret: string;

  beforeAll(async () => {
    ca = await startCa({ config: { oidcDevMode: false }, issueWorkers: 2, withLog: true });
    // Register a runner through the real CLI, as an operator would.
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'bin/sigil.js',
        'oidc',
        'add-runner',
        '--data-dir',
        ca.dataDir,
        '--repository',
        'acme/widgets',
        '--workflow',
        '.github/workflows/release.yml',
        '--ref',
        'refs/tags/v1.2.3',
        '--repository-id',
        '4242',
        '--repository-owner-id',
        '77',
        '--visibility',
        'public',
        '--url',
        ca.url,
      ],
      { cwd: join(import.meta.dirname, '../..') },
    );
    expect(stdout).toContain(`ACTIONS_ID_TOKEN_REQUEST_URL=${ca.url}/oidc/token?api-version=2.0`);
    // The run's values are fixed by whoever starts it (here the operator's CLI); the job gets the run's secret.
    const started = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'bin/sigil.js',
        'oidc',
        'start-run',
        '--data-dir',
        ca.dataDir,
        '--runner',
        'acme/widgets@refs/tags/v1.2.3',
        '--sha',
        SHA,
        '--run-id',
        '99',
        '--run-attempt',
        '2',
        '--url',
        ca.url,
      ],
      { cwd: join(import.meta.dirname, '../..') },
    );
    secret = /ACTIONS_ID_TOKEN_REQUEST_TOKEN=(sigil_run_\S+)/.exec(started.stdout)![1];
  });

  afterAll(() => ca.stop());

  it('signs a blob with a GitHub-Actions-style token and verifies it with our trusted_root.json', async () => {
    const payload = Buffer.from('hello, sigil');
    const saved = {
      url: process.env.ACTIONS_ID_TOKEN_REQUEST_URL,
      token: process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
    };
    process.env.ACTIONS_ID_TOKEN_REQUEST_URL = `${ca.url}/oidc/token?api-version=2.0`;
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = secret;
    let bundleJson: Awaited<ReturnType<typeof sign>>;
    try {
      // No identityToken: sigstore-js finds the token itself through the Actions request protocol.
      bundleJson = await sign(payload, { fulcioURL: ca.url, rekorURL: ca.url, retry: 0 });
    } finally {
      process.env.ACTIONS_ID_TOKEN_REQUEST_URL = saved.url;
      process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = saved.token;
    }

    const trustedRootJson = JSON.parse(await readFile(join(ca.dataDir, 'trusted_root.json'), 'utf8'));
    expect(await (await fetch(`${ca.url}/trusted_root.json`)).json()).toEqual(trustedRootJson);
    const trust = toTrustMaterial(parseTrustedRoot(trustedRootJson));
    const signingConfig = parseSigningConfig(await (await fetch(`${ca.url}/signing_config.json`)).json());
    expect(signingConfig.caUrls[0].url).toBe(ca.url);
    expect(signingConfig.rekorTlogUrls[0].url).toBe(ca.url);
    expect(signingConfig.oidcUrls[0].url).toBe(ca.url);
    const entity = toSignedEntity(bundleFromJSON(bundleJson), payload);
    if (entity.key.$case !== 'certificate') throw new Error('expected a certificate');

    const verifier = new Verifier(trust, { ctlogThreshold: 1, tlogThreshold: 1 });
    const policy = {
      subjectAlternativeName:
        'https://github.com/acme/widgets/.github/workflows/release.yml@refs/tags/v1.2.3',
      extensions: { issuer: ca.url },
    };
    const signer = verifier.verify(entity, policy);
    expect(signer.identity?.subjectAlternativeName).toBe(policy.subjectAlternativeName);
    expect(bundleJson.verificationMaterial.tlogEntries).toHaveLength(1);

    // A tampered payload, another identity or another issuer must not pass.
    const tampered = toSignedEntity(bundleFromJSON(bundleJson), Buffer.from('tampered'));
    expect(() => verifier.verify(tampered, policy)).toThrow();
    expect(() =>
      verifier.verify(entity, { ...policy, subjectAlternativeName: 'https://github.com/x' }),
    ).toThrow(/certificate identity error/);
    expect(() => verifier.verify(entity, { ...policy, extensions: { issuer: 'https://evil' } })).toThrow(
      /issuer/,
    );
    // Without our CT log in the trust material the SCT does not verify.
    const noCt = toTrustMaterial(parseTrustedRoot({ ...trustedRootJson, ctlogs: [] }));
    expect(() =>
      new Verifier(noCt, { ctlogThreshold: 1, tlogThreshold: 1 }).verify(entity, policy),
    ).toThrow();

    // The certificate carries the GitHub workflow extensions with the right values.
    const cert = entity.key.certificate;
    expect(cert).toBeInstanceOf(SigstoreX509);
    const ext = (n: number) =>
      cert.extension(`1.3.6.1.4.1.57264.1.${n}`)?.valueObj.subs?.[0]?.value.toString();
    const rawExt = (n: number) => cert.extension(`1.3.6.1.4.1.57264.1.${n}`)?.value.toString();
    expect(rawExt(1)).toBe(ca.url);
    expect(rawExt(2)).toBe('push');
    expect(rawExt(3)).toBe(SHA);
    expect(rawExt(4)).toBe('release.yml');
    expect(rawExt(5)).toBe('acme/widgets');
    expect(rawExt(6)).toBe('refs/tags/v1.2.3');
    expect(ext(8)).toBe(ca.url);
    expect(ext(9)).toBe('https://github.com/acme/widgets/.github/workflows/release.yml@refs/tags/v1.2.3');
    expect(ext(10)).toBe(SHA);
    expect(ext(11)).toBe('self-hosted');
    expect(ext(12)).toBe('https://github.com/acme/widgets');
    expect(ext(13)).toBe(SHA);
    expect(ext(14)).toBe('refs/tags/v1.2.3');
    expect(ext(15)).toBe('4242');
    expect(ext(16)).toBe('https://github.com/acme');
    expect(ext(17)).toBe('77');
    expect(ext(18)).toBe('https://github.com/acme/widgets/.github/workflows/release.yml@refs/tags/v1.2.3');
    expect(ext(19)).toBe(SHA);
    expect(ext(20)).toBe('push');
    expect(ext(21)).toBe('https://github.com/acme/widgets/actions/runs/99/attempts/2');
    expect(ext(22)).toBe('public');
    expect(ext(23)).toBeUndefined();
    expect(ext(24)).toBe('repo:acme/widgets:ref:refs/tags/v1.2.3');
  });
});
