// Keys and environment as cosign has them (#19): `import-key-pair` turns a PEM key into cosign's encrypted
// cosign.key format (doc/cosign_import-key-pair.md), `--key env://VAR` reads a key from the environment, and the
// service URLs come from the flag, then cosign's SIGSTORE_REKOR_URL / SIGSTORE_FULCIO_URL / SIGSTORE_OIDC_ISSUER,
// then sigil's SIGIL_* variables, then the signing config (docs/cli.md). Each URL below points at a closed port,
// so the error names the one that was chosen.
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sigil, tempDir } from '../sign/helpers.js';

describe('import-key-pair and env:// keys', () => {
  let dir: string;
  const f = (n: string) => join(dir, n);
  beforeAll(async () => {
    dir = await tempDir();
    await writeFile(f('artifact'), 'bytes\n');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(f('ec.pem'), ec.privateKey.export({ type: 'sec1', format: 'pem' }));
    await writeFile(f('ec.pub.expected'), ec.publicKey.export({ type: 'spki', format: 'pem' }));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(f('rsa.pem'), rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }));
  });

  it("imports an EC key into cosign's encrypted format; it signs and the public key verifies", async () => {
    const r = await sigil(['import-key-pair', '--key', f('ec.pem'), '--output-key-prefix', f('imported')], {
      COSIGN_PASSWORD: 'pw',
    });
    expect(r.code, r.stderr).toBe(0);
    const key = await readFile(f('imported.key'), 'utf8');
    expect(key).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    expect(await readFile(f('imported.pub'), 'utf8')).toBe(await readFile(f('ec.pub.expected'), 'utf8'));
    const pub = await sigil(['public-key', '--key', f('imported.key')], { COSIGN_PASSWORD: 'pw' });
    expect(pub.stdout).toBe(await readFile(f('ec.pub.expected'), 'utf8'));
    const wrong = await sigil(['public-key', '--key', f('imported.key')], { COSIGN_PASSWORD: 'nope' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('wrong password');

    // The encrypted key from an environment variable, as CI secrets are given.
    const signed = await sigil(
      [
        'sign-blob',
        '--yes',
        '--tlog-upload=false',
        '--key',
        'env://SIGNING_KEY',
        '--output-signature',
        f('a.sig'),
        f('artifact'),
      ],
      { COSIGN_PASSWORD: 'pw', SIGNING_KEY: key },
    );
    expect(signed.code, signed.stderr).toBe(0);
    const ok = await sigil([
      'verify-blob',
      '--key',
      f('imported.pub'),
      '--signature',
      f('a.sig'),
      '--insecure-ignore-tlog',
      f('artifact'),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('imports an RSA key; refuses to overwrite, and refuses a public key', async () => {
    const rsa = await sigil(
      ['import-key-pair', '--key', f('rsa.pem'), '--output-key-prefix', f('rsa-imported')],
      {
        COSIGN_PASSWORD: '',
      },
    );
    expect(rsa.code, rsa.stderr).toBe(0);
    const again = await sigil(
      ['import-key-pair', '--key', f('rsa.pem'), '--output-key-prefix', f('rsa-imported')],
      {
        COSIGN_PASSWORD: '',
      },
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    // generate-key-pair alike: the old key stays and so does the public key that matches it.
    const before = await readFile(f('rsa-imported.pub'), 'utf8');
    const gen = await sigil(['generate-key-pair', '--output-key-prefix', f('rsa-imported')], {
      COSIGN_PASSWORD: '',
    });
    expect(gen.code).toBe(1);
    expect(gen.stderr).toContain(`${f('rsa-imported.key')} already exists`);
    expect(await readFile(f('rsa-imported.pub'), 'utf8')).toBe(before);
    const pub = await sigil(
      ['import-key-pair', '--key', f('ec.pub.expected'), '--output-key-prefix', f('x')],
      {
        COSIGN_PASSWORD: '',
      },
    );
    expect(pub.code).toBe(1);
    expect(pub.stderr).toContain('is not an unencrypted PEM private key');
  });
});

describe('where service URLs come from', () => {
  let dir: string;
  let key: string;
  beforeAll(async () => {
    dir = await tempDir();
    await writeFile(join(dir, 'artifact'), 'bytes\n');
    const gen = await sigil(['generate-key-pair', '--output-key-prefix', join(dir, 'k')], {
      COSIGN_PASSWORD: 'pw',
    });
    expect(gen.code, gen.stderr).toBe(0);
    key = join(dir, 'k.key');
  });
  // No trust dir: nothing but the flag and the environment names a service.
  const base = () => ({ COSIGN_PASSWORD: 'pw', SIGIL_HOME: dir });

  it('Rekor: --rekor-url, then SIGSTORE_REKOR_URL, then SIGIL_REKOR_URL', async () => {
    const sign = (args: string[], env: Record<string, string>) =>
      sigil(['sign-blob', '--yes', '--key', key, ...args, join(dir, 'artifact')], { ...base(), ...env });
    const both = { SIGSTORE_REKOR_URL: 'http://127.0.0.1:1', SIGIL_REKOR_URL: 'http://127.0.0.2:1' };
    expect((await sign([], both)).stderr).toContain('cannot reach http://127.0.0.1:1');
    expect((await sign([], { SIGIL_REKOR_URL: 'http://127.0.0.2:1' })).stderr).toContain(
      'cannot reach http://127.0.0.2:1',
    );
    expect((await sign(['--rekor-url', 'http://127.0.0.3:1'], both)).stderr).toContain(
      'cannot reach http://127.0.0.3:1',
    );
  });

  it('Fulcio: SIGSTORE_FULCIO_URL over SIGIL_FULCIO_URL; the OIDC issuer: SIGSTORE_OIDC_ISSUER over SIGIL_OIDC_URL', async () => {
    const keyless = (env: Record<string, string>, args: string[] = []) =>
      sigil(['sign-blob', '--yes', '--tlog-upload=false', ...args, join(dir, 'artifact')], {
        SIGIL_HOME: dir,
        // A token from sigil's CI issuer, asked for with this runner secret at the chosen issuer URL.
        SIGIL_OIDC_REQUEST_TOKEN: 'runner-secret',
        ...env,
      });
    const fulcio = await keyless({
      SIGSTORE_FULCIO_URL: 'http://127.0.0.1:1',
      SIGIL_FULCIO_URL: 'http://127.0.0.2:1',
      SIGSTORE_ID_TOKEN: 'eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwOi8veCIsInN1YiI6InkiLCJhdWQiOiJzaWdzdG9yZSJ9.',
    });
    expect(fulcio.stderr).toContain('cannot reach http://127.0.0.1:1');
    const oidc = await keyless({
      SIGIL_FULCIO_URL: 'http://127.0.0.2:1',
      SIGSTORE_OIDC_ISSUER: 'http://127.0.0.4:1',
      SIGIL_OIDC_URL: 'http://127.0.0.5:1',
    });
    expect(oidc.stderr).toContain('cannot reach http://127.0.0.4:1');
    const flag = await keyless(
      { SIGIL_FULCIO_URL: 'http://127.0.0.2:1', SIGSTORE_OIDC_ISSUER: 'http://127.0.0.4:1' },
      ['--oidc-issuer', 'http://127.0.0.6:1'],
    );
    expect(flag.stderr).toContain('cannot reach http://127.0.0.6:1');
    const sigilOnly = await keyless({
      SIGIL_FULCIO_URL: 'http://127.0.0.2:1',
      SIGIL_OIDC_URL: 'http://127.0.0.5:1',
    });
    expect(sigilOnly.stderr).toContain('cannot reach http://127.0.0.5:1');
  });
});
