// cosign v3 taking its trust from sigil's TUF repository, as it takes the public good instance's from
// tuf-repo-cdn.sigstore.dev: `cosign initialize --mirror <sigil>/tuf --root root.json` (TUF_ROOT in a scratch dir),
// then `cosign sign` and `cosign verify` with no --trusted-root and no --signing-config: the CA, log and trust
// all come from the repository's trusted_root.json and signing_config.v0.2.json. cosign refuses doctored mirrors
// (a tampered target, a targets.json listing another hash, an expired timestamp, a rollback to an older
// timestamp), as tuf-js does in ../tuf/tuf-js.test.ts, and follows a root rotation made with `sigil tuf
// rotate-root` while `sigil up` runs.
import { copyFile, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { trustTargets } from '../../src/server/index.js';
import { openTufRepository, readTargets, TUF_DIR } from '../../src/tuf/index.js';
import {
  exportCopy,
  flipByte,
  removeTemporaryDirs,
  type StaticServer,
  serveDirectory,
  sha256hex,
  targetFile,
} from '../tuf/doctored-mirror.js';
import { describePeer, IDENTITY, type PeerStack, runPeer, said, startPeerStack } from './peers.js';

const DAY = 86_400_000;

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
  /**
   * A doctored mirror whose files can be changed under the same URL (cosign keys its cache by the mirror's URL):
   * `show(from)` makes it serve a copy of directory `from`; or edit the files in `dir`.
   */
  const swappableMirror = async () => {
    const dir = await mkdtemp(join(s.work, 'mirror-'));
    const server = await serveDirectory(dir);
    mirrors.push(server);
    return {
      url: server.url,
      dir,
      async show(from: string) {
        await rm(dir, { recursive: true, force: true });
        await cp(from, dir, { recursive: true });
      },
    };
  };
  /** The signed part of a metadata file. */
  const signed = async (dir: string, file: string) =>
    JSON.parse(await readFile(join(dir, file), 'utf8')).signed;

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

  it('cosign initialize refuses a targets.json listing another hash for trusted_root.json (and serving that file)', async () => {
    const doctored = await swappableMirror();
    await doctored.show(await exportCopy(s.dataDir));
    const tufRoot = join(s.work, 'tuf-targets');
    // The copy as exported initializes: only the edit below makes the same command fail.
    const ok = await run(['initialize', '--mirror', doctored.url, '--root', root1], tufRoot);
    expect(ok.code, said(ok)).toBe(0);

    // Same length, one hash changed, not re-signed: the snapshot's hash of targets.json (and the targets key's
    // signature behind it) is all that stands between cosign and the substituted file.
    const evil = await readFile(s.trustedRoot);
    evil[20] ^= 0x01;
    const snapshot = (await signed(doctored.dir, 'timestamp.json')).meta['snapshot.json'].version;
    const listed = (await signed(doctored.dir, `${snapshot}.snapshot.json`)).meta['targets.json'];
    expect(listed.hashes.sha256).toMatch(/^[0-9a-f]{64}$/);
    const targetsPath = join(doctored.dir, `${listed.version}.targets.json`);
    const targets = JSON.parse(await readFile(targetsPath, 'utf8'));
    targets.signed.targets['trusted_root.json'].hashes.sha256 = sha256hex(evil);
    const edited = `${JSON.stringify(targets, null, 2)}\n`;
    expect(edited.length).toBe((await readFile(targetsPath, 'utf8')).length);
    await writeFile(targetsPath, edited);
    await writeFile(join(doctored.dir, 'targets', `${sha256hex(evil)}.trusted_root.json`), evil);

    const init = await run(['initialize', '--mirror', doctored.url, '--root', root1], tufRoot);
    expect(init.code, said(init)).not.toBe(0);
    // sigstore-go's client (go-tuf v2) fails its refresh on the metadata, before any target is fetched; cosign
    // then falls back to its legacy client (go-tuf v0.7), which names targets.json.
    expect(init.output).toMatch(
      /tuf refresh failed: length\/hash verification error: hash verification failed - mismatch for algorithm sha256/,
    );
    expect(init.output).toMatch(/failed to download targets\.json: wrong sha256 hash/);
  });

  it('cosign initialize refuses a timestamp that has expired (a properly signed one, replayed after its time)', async () => {
    const doctored = await swappableMirror();
    await doctored.show(await exportCopy(s.dataDir));
    const tufRoot = join(s.work, 'tuf-expired');
    const ok = await run(['initialize', '--mirror', doctored.url, '--root', root1], tufRoot);
    expect(ok.code, said(ok)).toBe(0);

    // timestamp.json (and the snapshot it names) signed two days ago with the real keys, valid for one day: what a
    // freeze attacker replaying old metadata would serve. cosign has no clock of its own to set.
    const scratch = await mkdtemp(join(s.work, 'tuf-past-'));
    await cp(join(s.dataDir, TUF_DIR), join(scratch, TUF_DIR), { recursive: true });
    const past = await openTufRepository(scratch, { now: () => new Date(Date.now() - 2 * DAY) });
    await past.refresh(await readTargets(trustTargets(s.dataDir)), { validForMs: DAY });
    await doctored.show(await exportCopy(scratch));
    expect(Date.parse((await signed(doctored.dir, 'timestamp.json')).expires)).toBeLessThan(Date.now());

    const init = await run(['initialize', '--mirror', doctored.url, '--root', root1], tufRoot);
    expect(init.code, said(init)).not.toBe(0);
    expect(init.output).toMatch(/tuf refresh failed: expired metadata error: timestamp\.json is expired/);
    expect(init.output).toMatch(/failed to decode timestamp\.json: expired at /);
  });

  it('refuses a rollback: once it has seen a newer timestamp, the same mirror serving an older one fails cosign verify', async () => {
    const old = await exportCopy(s.dataDir);
    // `sigil tuf export --valid-for` re-signs snapshot and timestamp in the live repository (new versions).
    const newer = await mkdtemp(join(s.work, 'tuf-export-'));
    const exported = await s.sigil(['tuf', 'export', newer, '--data-dir', s.dataDir, '--valid-for', '2d']);
    expect(exported.code, said(exported)).toBe(0);
    const oldVersion = (await signed(old, 'timestamp.json')).version;

    // cosign keys its cache by the mirror's URL, so the rollback is served under the URL it initialized from.
    const doctored = await swappableMirror();
    await doctored.show(newer);
    const tufRoot = join(s.work, 'tuf-rollback');
    const init = await run(['initialize', '--mirror', doctored.url, '--root', root1], tufRoot);
    expect(init.code, said(init)).toBe(0);
    const seen = JSON.parse(await cached(tufRoot, 'timestamp.json')).signed.version;
    expect(seen).toBeGreaterThan(oldVersion);
    const image = await s.pushImage('cosign3-tuf-rollback', 'verified before and after a rollback');
    const sign = await run(['sign', '--yes', image], tufRoot);
    expect(sign.code, said(sign)).toBe(0);
    const before = await run(['verify', ...who(), image], tufRoot);
    expect(before.code, said(before)).toBe(0);

    // `cosign initialize` starts over (it empties TUF_ROOT first), so the refresh that refuses the rollback is the
    // one every other command makes from the metadata cached: here cosign verify's.
    await doctored.show(old);
    const after = await run(['verify', ...who(), image], tufRoot);
    expect(after.code, said(after)).not.toBe(0);
    expect(after.output).toContain(
      `tuf refresh failed: bad version number error: new timestamp version ${oldVersion} must be >= ${seen}`,
    );
    expect(JSON.parse(await cached(tufRoot, 'timestamp.json')).signed.version).toBe(seen);
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
