// cosign's verification habits (#19), against the sigil services on loopback: verify-blob with a detached
// --signature and --certificate (+ --certificate-chain) or --key (cosign looks the entry up in Rekor by the
// artifact's digest, and so does sigil), the artifact on standard input, --insecure-ignore-tlog with cosign's
// warning; verify-blob-attestation --type; `verify -a key=value`, `-o yaml` refused, --check-claims and
// --offline accepted; sign -r for an index; copy, save and load carrying the signatures (cosign docs:
// doc/cosign_verify.md, doc/cosign_verify-blob.md, doc/cosign_copy.md, doc/cosign_save.md, doc/cosign_load.md).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken, IDENTITY, pushImage, type Stack, sigil, startStack, tempDir } from '../sign/helpers.js';

const WARNING =
  'WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.';

describe('verify and verify-blob as cosign has them', () => {
  let stack: Stack;
  let home: string;
  let token: string;
  const env = (extra: Record<string, string> = {}) => ({ SIGIL_HOME: home, COSIGN_PASSWORD: 'pw', ...extra });
  const f = (name: string) => join(home, name);
  const keyless = () => ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', stack.url];

  beforeAll(async () => {
    stack = await startStack();
    home = await tempDir();
    expect((await sigil(['initialize', '--root', stack.url], env())).code).toBe(0);
    token = await devToken(stack.url);
    await writeFile(f('artifact'), 'release bytes\n');
    await writeFile(f('other'), 'other bytes\n');
    const gen = await sigil(['generate-key-pair', '--output-key-prefix', f('k')], env());
    expect(gen.code, gen.stderr).toBe(0);
    const signed = await sigil(
      [
        'sign-blob',
        '--yes',
        '--identity-token',
        token,
        '--output-signature',
        f('artifact.sig'),
        '--output-certificate',
        f('artifact.pem'),
        f('artifact'),
      ],
      env(),
    );
    expect(signed.code, signed.stderr).toBe(0);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('detached --signature + --certificate: the entry is found in the log by digest', async () => {
    const args = [
      'verify-blob',
      '--signature',
      f('artifact.sig'),
      '--certificate',
      f('artifact.pem'),
      ...keyless(),
    ];
    const ok = await sigil([...args, f('artifact')], env());
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe('Verified OK\n');
    const other = await sigil([...args, f('other')], env());
    expect(other.code).toBe(1);
    const wrongId = await sigil(
      ['verify-blob', '--signature', f('artifact.sig'), '--certificate', f('artifact.pem')].concat([
        '--certificate-identity',
        'https://evil',
        '--certificate-oidc-issuer',
        stack.url,
        f('artifact'),
      ]),
      env(),
    );
    expect(wrongId.code).toBe(1);
    expect(wrongId.stderr).toContain('IDENTITY_MISMATCH');
    // A Go RE2 pattern (JavaScript's RegExp refuses the (?i) flag group) through the installed command.
    const regexp = await sigil(
      ['verify-blob', '--signature', f('artifact.sig'), '--certificate', f('artifact.pem')].concat([
        '--certificate-identity-regexp',
        '(?i)^HTTPS://GITHUB\\.COM/ACME/',
        '--certificate-oidc-issuer',
        stack.url,
        f('artifact'),
      ]),
      env(),
    );
    expect(regexp.code, regexp.stderr).toBe(0);
  });

  it('says what is missing or wrong before verifying', async () => {
    const notJson = await sigil(
      ['verify-blob', '--bundle', f('artifact'), ...keyless(), f('artifact')],
      env(),
    );
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toBe(
      `Error: ${f('artifact')} is not a bundle (not JSON): give the .sigstore.json that sign-blob wrote\n`,
    );
    const noIdentity = await sigil(
      ['verify-blob', '--signature', f('artifact.sig'), '--certificate', f('artifact.pem'), f('artifact')],
      env(),
    );
    expect(noIdentity.stderr).toBe(
      'Error: --certificate-identity or --certificate-identity-regexp is required for verification in keyless mode\n',
    );
    const noCert = await sigil(
      ['verify-blob', '--signature', f('artifact.sig'), ...keyless(), f('artifact')],
      env(),
    );
    expect(noCert.stderr).toBe('Error: --signature needs --certificate FILE (keyless) or --key KEY\n');
  });

  it('--insecure-ignore-sct: a trusted root without the CT log fails, unless SCTs are not required', async () => {
    const root = JSON.parse(await readFile(f('trusted_root.json'), 'utf8'));
    await writeFile(f('no-ct.json'), JSON.stringify({ ...root, ctlogs: [] }));
    const args = [
      'verify-blob',
      '--signature',
      f('artifact.sig'),
      '--certificate',
      f('artifact.pem'),
      ...keyless(),
    ];
    const refused = await sigil([...args, '--trusted-root', f('no-ct.json'), f('artifact')], env());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/SCT/);
    const ignored = await sigil(
      [...args, '--trusted-root', f('no-ct.json'), '--insecure-ignore-sct', f('artifact')],
      env(),
    );
    expect(ignored.code, ignored.stderr).toBe(0);
  });

  it('the artifact on standard input', async () => {
    const args = [
      'verify-blob',
      '--signature',
      f('artifact.sig'),
      '--certificate',
      f('artifact.pem'),
      ...keyless(),
      '-',
    ];
    const ok = await sigil(args, env(), 'release bytes\n');
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await sigil(args, env(), 'tampered\n');
    expect(bad.code).toBe(1);
  });

  it('--certificate-chain: the trusted root CA passes, another certificate is refused', async () => {
    const root = JSON.parse(await readFile(f('trusted_root.json'), 'utf8')) as {
      certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
    };
    const pem = (b64: string) =>
      `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    await writeFile(
      f('chain.pem'),
      root.certificateAuthorities[0].certChain.certificates.map((c) => pem(c.rawBytes)).join(''),
    );
    const args = [
      'verify-blob',
      '--signature',
      f('artifact.sig'),
      '--certificate',
      f('artifact.pem'),
      ...keyless(),
    ];
    const ok = await sigil([...args, '--certificate-chain', f('chain.pem'), f('artifact')], env());
    expect(ok.code, ok.stderr).toBe(0);
    // The leaf itself is no CA of the trusted root.
    const bad = await sigil([...args, '--certificate-chain', f('artifact.pem'), f('artifact')], env());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not a CA of the trusted root');
  });

  it('--key + --signature, from a file or env://VAR; an unlogged signature needs --insecure-ignore-tlog', async () => {
    const sign = await sigil(
      ['sign-blob', '--yes', '--key', f('k.key'), '--output-signature', f('k.sig'), f('artifact')],
      env(),
    );
    expect(sign.code, sign.stderr).toBe(0);
    const ok = await sigil(
      ['verify-blob', '--key', f('k.pub'), '--signature', f('k.sig'), f('artifact')],
      env(),
    );
    expect(ok.code, ok.stderr).toBe(0);
    const pub = await readFile(f('k.pub'), 'utf8');
    const viaEnv = await sigil(
      ['verify-blob', '--key', 'env://SIGNER_PUB', '--signature', f('k.sig'), f('artifact')],
      env({ SIGNER_PUB: pub }),
    );
    expect(viaEnv.code, viaEnv.stderr).toBe(0);

    const unlogged = await sigil(
      [
        'sign-blob',
        '--yes',
        '--tlog-upload=false',
        '--key',
        f('k.key'),
        '--output-signature',
        f('u.sig'),
        f('other'),
      ],
      env(),
    );
    expect(unlogged.code, unlogged.stderr).toBe(0);
    const refused = await sigil(
      ['verify-blob', '--key', f('k.pub'), '--signature', f('u.sig'), f('other')],
      env(),
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('no transparency log entry');
    const insecure = await sigil(
      ['verify-blob', '--key', f('k.pub'), '--signature', f('u.sig'), '--insecure-ignore-tlog', f('other')],
      env(),
    );
    expect(insecure.code, insecure.stderr).toBe(0);
    expect(insecure.stderr).toBe(`${WARNING}\nVerified OK\n`);
    const wrongFile = await sigil(
      [
        'verify-blob',
        '--key',
        f('k.pub'),
        '--signature',
        f('u.sig'),
        '--insecure-ignore-tlog',
        f('artifact'),
      ],
      env(),
    );
    expect(wrongFile.code).toBe(1);
    expect(wrongFile.stderr).toContain('SIGNATURE_INVALID');
  });

  it('verify-blob-attestation --type', async () => {
    await writeFile(f('predicate.json'), '{"buildType":"x"}');
    const att = await sigil(
      [
        'attest-blob',
        '--yes',
        '--identity-token',
        token,
        '--predicate',
        f('predicate.json'),
        '--type',
        'slsaprovenance1',
        '--bundle',
        f('att.json'),
        f('artifact'),
      ],
      env(),
    );
    expect(att.code, att.stderr).toBe(0);
    const args = ['verify-blob-attestation', '--bundle', f('att.json'), ...keyless()];
    const ok = await sigil([...args, '--type', 'slsaprovenance1', f('artifact')], env());
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe('Verified OK\n');
    const wrongType = await sigil([...args, '--type', 'spdxjson', f('artifact')], env());
    expect(wrongType.code).toBe(1);
    expect(wrongType.stderr).toContain('predicate type');
    const wrongFile = await sigil([...args, f('other')], env());
    expect(wrongFile.code).toBe(1);
  });

  it('sign --upload=false --output-signature/-certificate/-payload: nothing pushed, the pieces verify as a blob', async () => {
    const digest = await pushImage(stack.host, 'parity/offline', 'v1', 'not pushed');
    const image = `${stack.host}/parity/offline@${digest}`;
    const r = await sigil(
      [
        'sign',
        '--yes',
        '--identity-token',
        token,
        '--upload=false',
        '--output-signature',
        f('img.sig'),
        '--output-certificate',
        f('img.pem'),
        '--output-payload',
        f('img.payload'),
        image,
      ],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('Pushing signature');
    const payload = JSON.parse(await readFile(f('img.payload'), 'utf8'));
    expect(payload.critical.image['docker-manifest-digest']).toBe(digest);
    expect(await readFile(f('img.pem'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect((await sigil(['verify', ...keyless(), image], env())).code).toBe(10);
    const blob = await sigil(
      [
        'verify-blob',
        '--signature',
        f('img.sig'),
        '--certificate',
        f('img.pem'),
        ...keyless(),
        f('img.payload'),
      ],
      env(),
    );
    expect(blob.code, blob.stderr).toBe(0);
  });

  it('sign -r signs an index and every image it lists; without -r only the index', async () => {
    const { RegistryClient, OCI_INDEX, OCI_MANIFEST } = await import('../../src/oci/index.js');
    const client = new RegistryClient({ useAuthFiles: false });
    const repo = { registry: stack.host, repository: 'parity/multi' };
    const children = [
      await pushImage(stack.host, 'parity/multi', 'amd64', 'amd64 layer'),
      await pushImage(stack.host, 'parity/multi', 'arm64', 'arm64 layer'),
    ];
    const sizes = await Promise.all(
      children.map(async (d) => (await client.getManifest({ ...repo, digest: d })).bytes.length),
    );
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: children.map((digest, i) => ({
          mediaType: OCI_MANIFEST,
          digest,
          size: sizes[i],
          platform: { os: 'linux', architecture: i === 0 ? 'amd64' : 'arm64' },
        })),
      }),
    );
    const pushed = await client.putManifest({ ...repo, tag: 'multi' }, index, OCI_INDEX);
    const at = (d: string) => `${stack.host}/parity/multi@${d}`;
    const verify = (d: string) => sigil(['verify', '--key', f('k.pub'), at(d)], env());
    const flat = await sigil(['sign', '--yes', '--key', f('k.key'), at(pushed.digest)], env());
    expect(flat.code, flat.stderr).toBe(0);
    expect((await verify(pushed.digest)).code).toBe(0);
    expect((await verify(children[0])).code).toBe(10);
    const deep = await sigil(['sign', '--yes', '-r', '--key', f('k.key'), at(pushed.digest)], env());
    expect(deep.code, deep.stderr).toBe(0);
    for (const d of children) expect((await verify(d)).code, d).toBe(0);
  });

  it('verify -a key=value, -o yaml refused, --check-claims and --offline accepted', async () => {
    const digest = await pushImage(stack.host, 'parity/app', 'v1');
    const image = `${stack.host}/parity/app@${digest}`;
    const signed = await sigil(['sign', '--yes', '--key', f('k.key'), '-a', 'env=prod', image], env());
    expect(signed.code, signed.stderr).toBe(0);
    const base = ['verify', '--key', f('k.pub'), '--check-claims=true', '--offline=true'];
    const ok = await sigil([...base, '-a', 'env=prod', image], env());
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('  - The specified annotations were verified.');
    expect(JSON.parse(ok.stdout)[0].optional.env).toBe('prod');
    const wrong = await sigil([...base, '-a', 'env=dev', image], env());
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('missing or incorrect annotation');
    const yaml = await sigil([...base, '-o', 'yaml', image], env());
    expect(yaml.code).toBe(1);
    expect(yaml.stderr).toBe('Error: unsupported output format "yaml" (-o json or -o text)\n');
    const text = await sigil([...base, '-o', 'text', image], env());
    expect(text.code, text.stderr).toBe(0);
    expect(JSON.parse(text.stdout.trim().split('\n')[0]).critical.image['docker-manifest-digest']).toBe(
      digest,
    );
    const noTlog = await sigil([...base, '--insecure-ignore-tlog', image], env());
    expect(noTlog.code, noTlog.stderr).toBe(0);
    expect(noTlog.stderr.startsWith(`${WARNING}\n`)).toBe(true);
    const otherKey = await sigil(['generate-key-pair', '--output-key-prefix', f('other-key')], env());
    expect(otherKey.code).toBe(0);
    const wrongKey = await sigil(
      ['verify', '--key', f('other-key.pub'), '--insecure-ignore-tlog', image],
      env(),
    );
    expect(wrongKey.code).toBe(1);

    // copy, and save/load through an OCI layout directory: the signatures travel with the image.
    const copied = await sigil(['copy', image, `${stack.host}/parity/copied:v1`], env());
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stdout).toBe(`${stack.host}/parity/copied@${digest}\n`);
    expect(copied.stderr).toMatch(
      /^Copied \d+ manifest\(s\), \d+ blob\(s\), 1 signature tag\(s\), [1-9]\d* referrer\(s\)$/m,
    );
    const atCopy = await sigil(
      ['verify', '--key', f('k.pub'), '-a', 'env=prod', `${stack.host}/parity/copied:v1`],
      env(),
    );
    expect(atCopy.code, atCopy.stderr).toBe(0);
    const saved = await sigil(['save', image, '--dir', f('layout')], env());
    expect(saved.code, saved.stderr).toBe(0);
    const index = JSON.parse(await readFile(f('layout/index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    expect(index.manifests.map((m) => m.digest)).toContain(digest);
    expect(await readFile(f('layout/oci-layout'), 'utf8')).toContain('imageLayoutVersion');
    const loaded = await sigil(['load', '--dir', f('layout'), `${stack.host}/parity/loaded:v2`], env());
    expect(loaded.code, loaded.stderr).toBe(0);
    const atLoad = await sigil(['verify', '--key', f('k.pub'), `${stack.host}/parity/loaded:v2`], env());
    expect(atLoad.code, atLoad.stderr).toBe(0);
    // Nothing travels that was not signed: an unsigned image copies with nothing attached and does not verify.
    const plain = await pushImage(stack.host, 'parity/plain', 'v1', 'unsigned layer');
    const plainCopy = await sigil(
      ['copy', `${stack.host}/parity/plain@${plain}`, `${stack.host}/parity/plain-copy:v1`],
      env(),
    );
    expect(plainCopy.code, plainCopy.stderr).toBe(0);
    expect(
      (await sigil(['verify', '--key', f('k.pub'), `${stack.host}/parity/plain-copy:v1`], env())).code,
    ).toBe(10);
  });
});
