// One small CI script, run once with cosign v3 and once with sigil, against the same `sigil up` (#19: "porting a
// CI script from cosign to sigil should be a rename"). Every step must end the same way under both: the same exit
// code, including cosign's own codes for verification (10 no signature, 11 no such tag). Each run works
// in its own directory on its own images, so the two runs cannot see each other's keys or signatures. The
// rekor-cli verbs are compared the same way with `sigil log` (success or failure alike; rekor-cli's failure codes
// are its own).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePeer, IDENTITY, type PeerStack, ROOT, runPeer, startPeerStack } from './peers.js';

/** A step of the script: its arguments, with FILE(x) and IMAGE / UNSIGNED filled in per run. */
type Step = { name: string; args: string[] };

const SCRIPT: Step[] = [
  { name: 'generate a key pair', args: ['generate-key-pair'] },
  { name: 'public key of it', args: ['public-key', '--key', 'cosign.key', '--outfile', 'again.pub'] },
  {
    name: 'sign a blob with the key',
    args: [
      'sign-blob',
      '--yes',
      '@signing',
      '--key',
      'cosign.key',
      '--bundle',
      'blob.bundle',
      'artifact.txt',
    ],
  },
  {
    name: 'verify it',
    args: ['verify-blob', '@trust', '--key', 'cosign.pub', '--bundle', 'blob.bundle', 'artifact.txt'],
  },
  {
    name: 'verify it over other bytes',
    args: ['verify-blob', '@trust', '--key', 'cosign.pub', '--bundle', 'blob.bundle', 'tampered.txt'],
  },
  {
    name: 'sign the image with the key',
    args: ['sign', '--yes', '@signing', '--key', 'cosign.key', 'IMAGE'],
  },
  { name: 'verify the image', args: ['verify', '@trust', '--key', 'cosign.pub', 'IMAGE'] },
  { name: 'verify an image nobody signed', args: ['verify', '@trust', '--key', 'cosign.pub', 'UNSIGNED'] },
  { name: 'verify a tag that does not exist', args: ['verify', '@trust', '--key', 'cosign.pub', 'NO_TAG'] },
  {
    name: 'verify with an annotation it does not carry',
    args: ['verify', '@trust', '--key', 'cosign.pub', '-a', 'team=nobody', 'IMAGE'],
  },
  { name: 'sign the image keylessly', args: ['sign', '--yes', '@signing', 'IMAGE'] },
  { name: 'verify the keyless signature', args: ['verify', '@trust', '@who', 'IMAGE'] },
  {
    name: 'verify with an identity regexp',
    args: [
      'verify',
      '@trust',
      '--certificate-identity-regexp',
      '^https://github\\.com/acme/',
      '--certificate-oidc-issuer',
      '@issuer',
      'IMAGE',
    ],
  },
  {
    name: 'verify with another identity',
    args: [
      'verify',
      '@trust',
      '--certificate-identity',
      `${IDENTITY}x`,
      '--certificate-oidc-issuer',
      '@issuer',
      'IMAGE',
    ],
  },
  {
    name: 'sign a blob keylessly',
    args: ['sign-blob', '--yes', '@signing', '--bundle', 'keyless.bundle', 'artifact.txt'],
  },
  {
    name: 'verify the keyless blob bundle',
    args: ['verify-blob', '@trust', '@who', '--bundle', 'keyless.bundle', 'artifact.txt'],
  },
  {
    name: 'verify it over other bytes',
    args: ['verify-blob', '@trust', '@who', '--bundle', 'keyless.bundle', 'tampered.txt'],
  },
  {
    name: 'attest to the image',
    args: [
      'attest',
      '--yes',
      '@signing',
      '--predicate',
      'predicate.json',
      '--type',
      'slsaprovenance',
      'IMAGE',
    ],
  },
  {
    name: 'verify the attestation',
    args: ['verify-attestation', '@trust', '@who', '--type', 'slsaprovenance', 'IMAGE'],
  },
  {
    name: 'verify an attestation of another type',
    args: ['verify-attestation', '@trust', '@who', '--type', 'spdxjson', 'IMAGE'],
  },
  {
    name: 'keyless verify without an identity',
    args: ['verify', '@trust', '--certificate-oidc-issuer', '@issuer', 'IMAGE'],
  },
];

describePeer('cosign3', 'one script, cosign v3 and sigil', (cosign) => {
  let s: PeerStack;
  beforeAll(async () => {
    s = await startPeerStack();
  });
  afterAll(async () => {
    await s?.stop();
  });

  async function runScript(
    tool: 'cosign' | 'sigil',
  ): Promise<{ name: string; code: number; output: string }[]> {
    const dir = join(s.work, `script-${tool}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'artifact.txt'), 'release tarball bytes\n');
    await writeFile(join(dir, 'tampered.txt'), 'release tarball bytes, changed\n');
    await writeFile(
      join(dir, 'predicate.json'),
      JSON.stringify({ buildType: 'make', builder: { id: 'ci' } }),
    );
    const image = await s.pushImage(`${tool}-script`, `signed by the ${tool} script`);
    const unsigned = await s.pushImage(`${tool}-unsigned`, `nobody signs this (${tool})`);
    const env = { ...s.env, COSIGN_PASSWORD: 'pw' };
    const expand = (a: string): string[] => {
      if (a === '@signing') return ['--trusted-root', s.trustedRoot, '--signing-config', s.signingConfig];
      if (a === '@trust') return ['--trusted-root', s.trustedRoot];
      if (a === '@who') return s.who();
      if (a === '@issuer') return [s.url];
      if (a === 'IMAGE') return [image];
      if (a === 'UNSIGNED') return [unsigned];
      if (a === 'NO_TAG') return [`${s.registry}/acme/django-keyless:no-such-tag`];
      return [a];
    };
    const results: { name: string; code: number; output: string }[] = [];
    for (const step of SCRIPT) {
      const args = step.args.flatMap(expand);
      const r =
        tool === 'cosign'
          ? await runPeer(cosign, args, env, { cwd: dir })
          : await runPeer(process.execPath, [join(ROOT, 'bin', 'sigil.js'), ...args], env, { cwd: dir });
      results.push({ name: step.name, code: r.code, output: r.output });
    }
    return results;
  }

  it('every step ends with the same exit code', async () => {
    const withCosign = await runScript('cosign');
    const withSigil = await runScript('sigil');
    const table = withCosign
      .map((c, i) => `${c.name}: cosign ${c.code}, sigil ${withSigil[i].code}`)
      .join('\n');
    for (const [i, c] of withCosign.entries()) {
      expect(withSigil[i].code, `${table}\n\n${c.output}\n${withSigil[i].output}`).toBe(c.code);
    }
    // The script is not trivially passing or failing: both outcomes occur, and cosign's verification codes.
    expect(withCosign.map((c) => c.code)).toEqual(expect.arrayContaining([0, 1, 10]));
  }, 300_000);
});

/** The same with rekor-cli's verbs, run as `rekor-cli …` and as `sigil log …` with rekor-cli's flag names. */
describePeer('rekor-cli', 'one script, rekor-cli and sigil log', (rekorCli) => {
  let s: PeerStack;
  let sha: string;
  beforeAll(async () => {
    s = await startPeerStack();
    const { createHash } = await import('node:crypto');
    const artifact = join(s.work, 'artifact.txt');
    const signed = await s.sigil(['sign-blob', '--yes', '--bundle', join(s.work, 'a.bundle'), artifact]);
    expect(signed.code, signed.output).toBe(0);
    const again = await s.sigil([
      'sign-blob',
      '--yes',
      '--bundle',
      join(s.work, 'b.bundle'),
      join(s.work, 'tampered.txt'),
    ]);
    expect(again.code, again.output).toBe(0);
    const { readFile } = await import('node:fs/promises');
    sha = createHash('sha256')
      .update(await readFile(artifact))
      .digest('hex');
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('every step ends with the same exit code', async () => {
    const steps: string[][] = [
      ['loginfo'],
      ['search', '--sha', sha],
      ['search', '--sha', 'f'.repeat(64)],
      ['get', '--log-index', '0'],
      ['get', '--log-index', '999999'],
      ['verify', '--log-index', '0'],
      ['logproof', '--first-size', '1', '--last-size', '2'],
      ['logproof', '--first-size', '2', '--last-size', '1'],
      ['get', '--log-index', '0', '--format', 'json'],
    ];
    const table: string[] = [];
    for (const step of steps) {
      const args = [...step, '--rekor_server', s.url];
      const theirs = await runPeer(rekorCli, args, s.env);
      const ours = await runPeer(process.execPath, [join(ROOT, 'bin', 'sigil.js'), 'log', ...args], s.env);
      table.push(`${step.join(' ')}: rekor-cli ${theirs.code}, sigil ${ours.code}`);
      expect(ours.code === 0, `${table.join('\n')}\n\n${theirs.output}\n${ours.output}`).toBe(
        theirs.code === 0,
      );
    }
    expect(table.some((l) => l.endsWith('sigil 0'))).toBe(true);
    expect(table.some((l) => !l.endsWith('sigil 0'))).toBe(true);
  }, 300_000);
});
