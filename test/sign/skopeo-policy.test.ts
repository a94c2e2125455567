// skopeo (containers/image) as the verifying peer: a containers policy.json with a `sigstoreSigned` requirement
// (containers/image docs/containers-policy.json.5.md, keyPath = our cosign.pub) and a registries.d entry with
// `use-sigstore-attachments: true` make skopeo read cosign's `sha256-<digest>.sig` layout from our registry. It must
// accept the image we signed with `sigil sign --key`, and reject an unsigned one and one whose signature was
// tampered with. Debian 12's skopeo 1.9.3 is built with sigstore policy checks patched out ("Debian-local change:
// sigstore disabled"): there the policy tests detect that at run time and skip, saying so, while the attachment
// test still runs — skopeo parses our `.sig` layout, copies it to another repository through containers/image's
// own sigstore code, and the copy verifies with `sigil verify --key`. Skipped only when skopeo is not installed.
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImageManifest, RegistryClient, signatureTag } from '../../src/oci/index.js';
import { pushImage, type Stack, sigil, startStack, tempDir } from './helpers.js';

const run = promisify(execFile);

function hasSkopeo(): boolean {
  try {
    execFileSync('skopeo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const SKOPEO = hasSkopeo();

describe.skipIf(!SKOPEO)('skopeo policy.json sigstoreSigned against sigil key signatures', () => {
  let stack: Stack;
  let dir: string;
  const env = () => ({ SIGIL_HOME: dir, COSIGN_PASSWORD: 'correct horse' });

  beforeAll(async () => {
    stack = await startStack(false);
    dir = await tempDir();
    const gen = await sigil(['generate-key-pair', '--output-key-prefix', join(dir, 'cosign')], env());
    expect(gen.code, gen.stderr).toBe(0);
    await writeFile(
      join(dir, 'policy.json'),
      JSON.stringify({
        default: [{ type: 'reject' }],
        transports: {
          docker: {
            [`${stack.host}/acme`]: [
              {
                type: 'sigstoreSigned',
                keyPath: join(dir, 'cosign.pub'),
                signedIdentity: { type: 'matchRepository' },
              },
            ],
          },
          dir: { '': [{ type: 'insecureAcceptAnything' }] },
        },
      }),
    );
    await mkdir(join(dir, 'registries.d'));
    await writeFile(
      join(dir, 'registries.d', 'sigil.yaml'),
      `docker:\n  ${stack.host}:\n    use-sigstore-attachments: true\n`,
    );
  });

  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function copy(ref: string, dest?: string, policy = join(dir, 'policy.json')) {
    const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
    try {
      await run('skopeo', [
        '--policy',
        policy,
        '--registries.d',
        join(dir, 'registries.d'),
        'copy',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        `docker://${ref}`,
        dest ?? `dir:${out}`,
      ]);
      return { ok: true, stderr: '' };
    } catch (err) {
      return { ok: false, stderr: String((err as { stderr?: string }).stderr) };
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }

  /** Whether this skopeo build evaluates sigstoreSigned at all (Debian's does not). */
  async function policySupported(ref: string): Promise<boolean> {
    const r = await copy(ref);
    if (r.stderr.includes('sigstore disabled')) {
      console.warn(`this skopeo build cannot check sigstoreSigned policies: ${r.stderr.trim()}`);
      return false;
    }
    return true;
  }

  it('copies our .sig layout with use-sigstore-attachments, and the copy still verifies', async () => {
    const digest = await pushImage(stack.host, 'acme/attached', 'v1');
    const s = await sigil(
      [
        'sign',
        '--yes',
        '--tlog-upload=false',
        '--key',
        join(dir, 'cosign.key'),
        `${stack.host}/acme/attached@${digest}`,
      ],
      env(),
    );
    expect(s.code, s.stderr).toBe(0);
    await writeFile(
      join(dir, 'accept.json'),
      JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }),
    );
    const r = await copy(
      `${stack.host}/acme/attached@${digest}`,
      `docker://${stack.host}/acme/mirror:v1`,
      join(dir, 'accept.json'),
    );
    expect(r.stderr).toBe('');
    const client = new RegistryClient({ useAuthFiles: false });
    expect(await client.listTags({ registry: stack.host, repository: 'acme/mirror' })).toContain(
      signatureTag(digest),
    );
    // Only the .sig layout travelled (skopeo knows no referrers); sigil verifies it from the public key.
    const v = await sigil(
      [
        'verify',
        '--key',
        join(dir, 'cosign.pub'),
        '--insecure-ignore-tlog',
        `${stack.host}/acme/mirror@${digest}`,
      ],
      env(),
    );
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)[0].critical.identity['docker-reference']).toBe(`${stack.host}/acme/attached`);
  });

  it('accepts the key-signed image, by digest and by tag', async (ctx) => {
    const digest = await pushImage(stack.host, 'acme/signed', 'v1');
    const s = await sigil(
      [
        'sign',
        '--yes',
        '--tlog-upload=false',
        '--key',
        join(dir, 'cosign.key'),
        `${stack.host}/acme/signed@${digest}`,
      ],
      env(),
    );
    expect(s.code, s.stderr).toBe(0);
    if (!(await policySupported(`${stack.host}/acme/signed@${digest}`))) ctx.skip();
    expect(await copy(`${stack.host}/acme/signed@${digest}`)).toEqual({ ok: true, stderr: '' });
    expect((await copy(`${stack.host}/acme/signed:v1`)).ok).toBe(true);

    // Our own verifier agrees, from the public key alone.
    const v = await sigil(
      [
        'verify',
        '--key',
        join(dir, 'cosign.pub'),
        '--insecure-ignore-tlog',
        `${stack.host}/acme/signed@${digest}`,
      ],
      env(),
    );
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toContain('The signatures were verified against the specified public key');
    const out = JSON.parse(v.stdout);
    expect(out).toHaveLength(1);
    expect(out[0].critical.image['docker-manifest-digest']).toBe(digest);
  });

  it('rejects an unsigned image', async (ctx) => {
    const digest = await pushImage(stack.host, 'acme/unsigned', 'v1');
    if (!(await policySupported(`${stack.host}/acme/unsigned@${digest}`))) ctx.skip();
    const r = await copy(`${stack.host}/acme/unsigned@${digest}`);
    expect(r.ok).toBe(false);
    expect(r.stderr).toMatch(/signature/i);
  });

  it('rejects an image whose signature was tampered with', async () => {
    const digest = await pushImage(stack.host, 'acme/tampered', 'v1');
    // Only the .sig layout, so that the tampered signature is the image's only one.
    const s = await sigil(
      [
        'sign',
        '--yes',
        '--tlog-upload=false',
        '--registry-referrers-mode',
        'legacy',
        '--key',
        join(dir, 'cosign.key'),
        `${stack.host}/acme/tampered@${digest}`,
      ],
      env(),
    );
    expect(s.code, s.stderr).toBe(0);
    // Rewrite the `.sig` manifest with the signature annotation's bytes altered.
    const client = new RegistryClient({ useAuthFiles: false });
    const tagRef = { registry: stack.host, repository: 'acme/tampered', tag: signatureTag(digest) };
    const m = (await client.getManifest(tagRef)).json as ImageManifest;
    const ann = m.layers[0].annotations!;
    const sig = Buffer.from(ann['dev.cosignproject.cosign/signature'], 'base64');
    sig[sig.length - 1] ^= 0x01;
    ann['dev.cosignproject.cosign/signature'] = sig.toString('base64');
    await client.putManifest(tagRef, m);

    const v = await sigil(
      [
        'verify',
        '--key',
        join(dir, 'cosign.pub'),
        '--insecure-ignore-tlog',
        `${stack.host}/acme/tampered@${digest}`,
      ],
      env(),
    );
    expect(v.code).not.toBe(0);
    expect(v.stderr).toContain('does not verify with the given public key');
    if (await policySupported(`${stack.host}/acme/tampered@${digest}`)) {
      expect((await copy(`${stack.host}/acme/tampered@${digest}`)).ok).toBe(false);
    }
  });
});
