// cosign v3 taking its trust from sigil's TUF repository, as it takes the public good instance's from
// tuf-repo-cdn.sigstore.dev: `cosign initialize --mirror <sigil>/tuf --root root.json` (TUF_ROOT in a scratch dir),
// then `cosign sign` and `cosign verify` with no --trusted-root and no --signing-config: the CA, log and trust
// all come from the repository's trusted_root.json and signing_config.v0.2.json. cosign refuses a doctored mirror
// (a tampered target), and follows a root rotation made with `sigil tuf rotate-root` while `sigil up` runs.
import { copyFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  exportCopy,
  flipByte,
  removeTemporaryDirs,
  type StaticServer,
  serveDirectory,
  targetFile,
} from '../tuf/doctored-mirror.js';
import { describePeer, IDENTITY, type PeerStack, runPeer, said, startPeerStack } from './peers.js';

describePeer('cosign3', 'cosign v3 ⇄ sigil TUF repository', (cosign) => {
  let s: PeerStack;
  let mirror: string;
  /** The first root, kept aside: a client that starts from it must follow every rotation after. */
  let root1: string;
  const mirrors: StaticServer[] = [];
  const run = (args: string[], tufRoot = join(s.work, 'tuf')) =>
    runPeer(cosign, args, { ...s.env, TUF_ROOT: tufRoot });
  const who = (identity = IDENTITY) => [
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    s.url,
  ];
  /** The metadata cosign keeps for the mirror: TUF_ROOT/<mirror as a path>/. */
  const cached = async (tufRoot: string, file: string) => {
    const dirs = (await readdir(tufRoot, { withFileTypes: true })).filter((d) => d.isDirectory());
    expect(dirs).toHaveLength(1);
    return readFile(join(tufRoot, dirs[0].name, file), 'utf8');
  };

  beforeAll(async () => {
    s = await startPeerStack();
    mirror = s.stack.endpoints.tufMirror;
    root1 = join(s.work, 'root-1.json');
    await copyFile(join(s.dataDir, 'tuf', 'repository', '1.root.json'), root1);
  });
  afterAll(async () => {
    for (const m of mirrors) await m.close();
    await removeTemporaryDirs();
    await s?.stop();
  });

  it('cosign initialize --mirror; cosign sign and verify then need no trust flags; a wrong identity is refused', async () => {
    const init = await run(['initialize', '--mirror', mirror, '--root', s.stack.endpoints.tufRoot]);
    expect(init.code, said(init)).toBe(0);
    expect(JSON.parse(await cached(join(s.work, 'tuf'), 'targets/trusted_root.json'))).toEqual(
      JSON.parse(await readFile(s.trustedRoot, 'utf8')),
    );

    const image = await s.pushImage('cosign3-tuf', 'signed with trust from TUF');
    const signed = await run(['sign', '--yes', image]);
    expect(signed.code, said(signed)).toBe(0);
    const ok = await run(['verify', ...who(), image]);
    expect(ok.code, said(ok)).toBe(0);
    expect(ok.stderr).toContain(
      'The code-signing certificate was verified using trusted certificate authority',
    );
    const wrong = await run(['verify', ...who(`${IDENTITY}x`), image]);
    expect(wrong.code, said(wrong)).not.toBe(0);
    // sigil verifies what cosign signed with the trust it took from the same repository.
    const home = join(s.work, 'sigil-home');
    const mine = await s.sigil(['initialize', '--mirror', mirror, '--root', s.stack.endpoints.tufRoot], {
      SIGIL_TRUST_DIR: home,
      SIGIL_TRUSTED_ROOT: '',
      SIGIL_SIGNING_CONFIG: '',
    });
    expect(mine.code, said(mine)).toBe(0);
    const v = await s.sigil(['verify', image, ...who()], {
      SIGIL_TRUST_DIR: home,
      SIGIL_TRUSTED_ROOT: '',
      SIGIL_SIGNING_CONFIG: '',
    });
    expect(v.code, said(v)).toBe(0);
  });

  it('cosign initialize refuses a mirror serving a tampered trusted_root.json', async () => {
    const copy = await exportCopy(s.dataDir);
    await flipByte(await targetFile(copy, 'trusted_root.json'));
    const doctored = await serveDirectory(copy);
    mirrors.push(doctored);
    const tufRoot = join(s.work, 'tuf-doctored');
    const init = await run(['initialize', '--mirror', doctored.url, '--root', root1], tufRoot);
    expect(init.code, said(init)).not.toBe(0);
    expect(init.output).toMatch(/hash verification failed|wrong sha256 hash/);
    const image = await s.pushImage('cosign3-tuf-doctored', 'nobody should verify with doctored trust');
    const verify = await run(['verify', ...who(), image], tufRoot);
    expect(verify.code, said(verify)).not.toBe(0);
  });

  it('follows a root rotation: an initialized cosign and one starting from the first root both reach version 2', async () => {
    const rotated = await s.sigil(['tuf', 'rotate-root', '--data-dir', s.dataDir]);
    expect(rotated.code, said(rotated)).toBe(0);
    const image = await s.pushImage('cosign3-tuf-rotated', 'signed after a root rotation');
    // cosign refreshes its TUF metadata before using it: the cached root moves to version 2.
    const signed = await run(['sign', '--yes', image]);
    expect(signed.code, said(signed)).toBe(0);
    expect(JSON.parse(await cached(join(s.work, 'tuf'), 'root.json')).signed.version).toBe(2);
    const ok = await run(['verify', ...who(), image]);
    expect(ok.code, said(ok)).toBe(0);

    const tufRoot = join(s.work, 'tuf-from-v1');
    const init = await run(['initialize', '--mirror', mirror, '--root', root1], tufRoot);
    expect(init.code, said(init)).toBe(0);
    expect(JSON.parse(await cached(tufRoot, 'root.json')).signed.version).toBe(2);
    const fromV1 = await run(['verify', ...who(), image], tufRoot);
    expect(fromV1.code, said(fromV1)).toBe(0);
  });
});
