// The shell surfaces over src/verify, run as real processes from dist/ (npm run build first):
// bin/sigil-conformance speaks the conformance protocol over public vectors, like the conformance runner
// would; `sigil verify-blob` takes cosign's flags and prints "Verified OK".
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const CASES = join(ROOT, 'test/fixtures/conformance/bundle-verify');
const PUBLIC_GOOD = join(ROOT, 'test/fixtures/public-good-trusted_root.json');
const IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

async function exec(bin: string, args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const r = await run(process.execPath, [join(ROOT, bin), ...args]);
    return { code: 0, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

/** The argument list the conformance suite would pass for a vector directory (docs/cli_protocol.md order). */
function conformanceArgs(name: string, artifactArg?: string): string[] {
  const dir = join(CASES, name);
  const f = (x: string) => join(dir, x);
  const text = (x: string, d: string) => (existsSync(f(x)) ? readFileSync(f(x), 'utf8').trim() : d);
  const material = existsSync(f('key.pub'))
    ? ['--key', f('key.pub')]
    : [
        '--certificate-identity',
        text('identity', IDENTITY),
        '--certificate-oidc-issuer',
        text('issuer', ISSUER),
      ];
  const root = existsSync(f('trusted_root.json')) ? f('trusted_root.json') : PUBLIC_GOOD;
  const artifact = artifactArg ?? (existsSync(f('artifact')) ? f('artifact') : join(CASES, 'a.txt'));
  return [
    'verify-bundle',
    '--bundle',
    f('bundle.sigstore.json'),
    ...material,
    '--trusted-root',
    root,
    artifact,
  ];
}

describe('bin/sigil-conformance verify-bundle', () => {
  // Every vector runs in-process in public-vectors.test.ts; here one of each shape goes through the process.
  it('passes happy vectors and fails _fail vectors', async () => {
    const names = [
      'happy-path-v0.1',
      'happy-path-v0.3-new-mediaType',
      'happy-path-intoto-in-dsse-v3',
      'managed-key-happy-path',
      'rekor2-happy-path',
      'intoto-with-custom-trust-root',
      'signature-mismatch_fail',
      'set-invalid-signature_fail',
      'checkpoint-wrong-roothash_fail',
      'managed-key-no-key_fail',
      'bundle-malformed-json_fail',
      'rekor2-timestamp-payload-mismatch_fail',
    ];
    expect(names.every((n) => existsSync(join(CASES, n, 'bundle.sigstore.json')))).toBe(true);
    const results: string[] = [];
    const queue = [...names];
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
          const r = await exec('bin/sigil-conformance', conformanceArgs(n));
          const ok = n.endsWith('_fail') ? r.code === 1 && r.stderr.includes('verify-bundle:') : r.code === 0;
          if (!ok) results.push(`${n}: exit ${r.code} ${r.stderr}`);
        }
      }),
    );
    expect(results).toEqual([]);
  });

  it('accepts a sha256: digest instead of the file', async () => {
    const digest = createHash('sha256')
      .update(readFileSync(join(CASES, 'a.txt')))
      .digest('hex');
    expect(
      (await exec('bin/sigil-conformance', conformanceArgs('happy-path-v0.2', `sha256:${digest}`))).code,
    ).toBe(0);
    const wrong = createHash('sha256').update('x').digest('hex');
    const r = await exec('bin/sigil-conformance', conformanceArgs('happy-path-v0.2', `sha256:${wrong}`));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DIGEST_MISMATCH');
  });

  it('rejects unknown subcommands and missing material', async () => {
    expect((await exec('bin/sigil-conformance', ['frobnicate'])).code).toBe(2);
    const r = await exec('bin/sigil-conformance', ['verify-bundle', '--bundle', 'x', join(CASES, 'a.txt')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/trusted root/);
  });
});

describe('sigil verify-blob', () => {
  const bundle = join(CASES, 'happy-path-v0.3/bundle.sigstore.json');
  const base = ['verify-blob', join(CASES, 'a.txt'), '--bundle', bundle, '--trusted-root', PUBLIC_GOOD];

  it('prints Verified OK for a public-good bundle', async () => {
    const r = await exec('bin/sigil.js', [
      ...base,
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
    ]);
    expect(r).toEqual({ code: 0, stderr: 'Verified OK\n' });
    const re = await exec('bin/sigil.js', [
      ...base,
      '--certificate-identity-regexp',
      '^https://github\\.com/sigstore-conformance/',
      '--certificate-oidc-issuer-regexp',
      'githubusercontent',
      '--certificate-github-workflow-repository',
      'sigstore-conformance/extremely-dangerous-public-oidc-beacon',
    ]);
    expect(re.code).toBe(0);
  });

  it('fails with the code and reason for a wrong identity or a tampered bundle', async () => {
    const r = await exec('bin/sigil.js', [
      ...base,
      '--certificate-identity',
      'https://evil',
      '--certificate-oidc-issuer',
      ISSUER,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('verification failed (IDENTITY_MISMATCH): certificate identity');
    const json = JSON.parse(readFileSync(bundle, 'utf8'));
    const sig = Buffer.from(json.messageSignature.signature, 'base64');
    sig[8] ^= 1;
    json.messageSignature.signature = sig.toString('base64');
    const tampered = join(mkdtempSync(join(tmpdir(), 'sigil-verify-')), 'bundle.json');
    writeFileSync(tampered, JSON.stringify(json));
    const t = await exec('bin/sigil.js', [
      'verify-blob',
      join(CASES, 'a.txt'),
      '--bundle',
      tampered,
      '--trusted-root',
      PUBLIC_GOOD,
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
    ]);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain('SIGNATURE_INVALID');
  });
});
