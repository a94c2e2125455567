// `sigil initialize --mirror` (the real binary) as a TUF client of `sigil up`'s /tuf/: it stores the verified
// trusted_root.json and signing config where `sigil initialize --root` does, pins a fetched root with
// --root-checksum, refuses a doctored mirror without touching the stored trust, reads an exported copy from a
// directory (file://), and follows a root rotation from its cached root. The unsigned fetches refuse plain http
// to anything but loopback unless --insecure.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Endpoints, type RunningServer, startStack } from '../../src/server/index.js';
import { sigil } from '../sign/helpers.js';
import {
  exportCopy,
  flipByte,
  removeTemporaryDirs,
  type StaticServer,
  serveDirectory,
  sha256hex,
  targetFile,
} from './doctored-mirror.js';

describe('sigil initialize --mirror', () => {
  let dataDir: string;
  let server: RunningServer;
  let endpoints: Endpoints;
  const temps: string[] = [];
  const mirrors: StaticServer[] = [];
  const temp = async () => {
    const d = await mkdtemp(join(tmpdir(), 'sigil-tuf-init-'));
    temps.push(d);
    return d;
  };
  const init = (home: string, args: string[]) => sigil(['initialize', ...args], { SIGIL_TRUST_DIR: home });
  const stored = async (home: string) => ({
    root: await readFile(join(home, 'trusted_root.json'), 'utf8'),
    signing: await readFile(join(home, 'signing_config.json'), 'utf8'),
  });
  const expected = async () => ({
    root: JSON.parse(await readFile(endpoints.trustedRoot, 'utf8')),
    signing: JSON.parse(await readFile(endpoints.signingConfig, 'utf8')),
  });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sigil-tuf-init-up-'));
    ({ server, endpoints } = await startStack({ dataDir, port: 0, logLevel: 'silent' }));
  });
  afterAll(async () => {
    for (const m of mirrors) await m.close();
    await server?.close();
    for (const d of [dataDir, ...temps]) if (d) await rm(d, { recursive: true, force: true });
    await removeTemporaryDirs();
  });

  it('stores the verified trusted root and signing config, as `initialize --root` stores them', async () => {
    const home = await temp();
    const r = await init(home, ['--mirror', endpoints.tufMirror, '--root', endpoints.tufRoot]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`TUF repository ${endpoints.tufMirror}: root version 1`);
    expect(r.stderr).toContain(`CA: ${endpoints.url}`);
    const s = await stored(home);
    const want = await expected();
    expect(JSON.parse(s.root)).toEqual(want.root);
    expect(JSON.parse(s.signing)).toEqual(want.signing);
    // Same files as the unsigned way gives, plus the TUF client's cache beside them.
    const legacy = await temp();
    expect((await init(legacy, ['--root', endpoints.url])).code).toBe(0);
    expect(await stored(legacy)).toEqual(s);
    expect((await readdir(home)).sort()).toEqual(['signing_config.json', 'trusted_root.json', 'tuf-client']);
  });

  it('pins a root fetched by URL with --root-checksum', async () => {
    const rootUrl = `${endpoints.tufMirror}/1.root.json`;
    const sum = sha256hex(await readFile(join(dataDir, 'tuf', 'repository', '1.root.json')));
    const ok = await init(await temp(), [
      '--mirror',
      endpoints.tufMirror,
      '--root',
      rootUrl,
      '--root-checksum',
      sum,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const wrong = await init(await temp(), [
      '--mirror',
      endpoints.tufMirror,
      '--root',
      rootUrl,
      '--root-checksum',
      '0'.repeat(64),
    ]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain(`not the --root-checksum ${'0'.repeat(64)}`);
  });

  it('refuses a doctored mirror and leaves the stored trust as it was', async () => {
    const home = await temp();
    expect((await init(home, ['--mirror', endpoints.tufMirror, '--root', endpoints.tufRoot])).code).toBe(0);
    const before = await stored(home);
    const copy = await exportCopy(dataDir);
    await flipByte(await targetFile(copy, 'trusted_root.json'));
    const m = await serveDirectory(copy);
    mirrors.push(m);
    const r = await init(home, ['--mirror', m.url, '--root', endpoints.tufRoot]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/TUF target trusted_root\.json from .*: Expected hash [0-9a-f]{64} but got/);
    expect(await stored(home)).toEqual(before);
  });

  it('reads an exported copy from a directory or a file:// URL', async () => {
    const out = await temp();
    const exported = await sigil(['tuf', 'export', out, '--data-dir', dataDir]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`exported `);
    // A public copy: readable by whatever web server serves it, though the data dir is private.
    expect((await stat(join(out, 'timestamp.json'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(out, 'targets'))).mode & 0o777).toBe(0o755);
    for (const mirror of [out, pathToFileURL(out).toString()]) {
      const home = await temp();
      const r = await init(home, ['--mirror', mirror, '--root', join(out, 'root.json')]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse((await stored(home)).root)).toEqual((await expected()).root);
    }
  });

  it('follows a root rotation from the root it cached; without one it asks for --root', async () => {
    const home = await temp();
    expect((await init(home, ['--mirror', endpoints.tufMirror, '--root', endpoints.tufRoot])).code).toBe(0);
    const rotated = await sigil(['tuf', 'rotate-root', '--data-dir', dataDir]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const again = await init(home, ['--mirror', endpoints.tufMirror]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('root version 2');
    const none = await init(await temp(), ['--mirror', endpoints.tufMirror]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('no trusted TUF root for');
  });

  it('refuses plain http to a non-loopback host for what it cannot verify, unless --insecure', async () => {
    const home = await temp();
    const legacy = await init(home, ['--root', 'http://sigil.invalid/']);
    expect(legacy.code).not.toBe(0);
    expect(legacy.stderr).toContain(
      'refusing to fetch http://sigil.invalid/trusted_root.json over plain http',
    );
    const insecure = await init(home, ['--root', 'http://sigil.invalid/', '--insecure']);
    expect(insecure.stderr).toContain(
      'cannot resolve sigil.invalid (http://sigil.invalid/trusted_root.json)',
    );
    const tufRoot = await init(home, [
      '--mirror',
      endpoints.tufMirror,
      '--root',
      'http://sigil.invalid/root.json',
    ]);
    expect(tufRoot.stderr).toContain('refusing to fetch the TUF root over plain http');
    // A checksum makes the transport irrelevant (the fetch itself then fails: the host does not exist).
    const pinned = await init(home, [
      '--mirror',
      endpoints.tufMirror,
      '--root',
      'http://sigil.invalid/root.json',
      '--root-checksum',
      '0'.repeat(64),
    ]);
    expect(pinned.stderr).not.toContain('refusing');
    expect(pinned.code).not.toBe(0);
    // Loopback is exempt: nothing sits between the client and the server.
    expect((await init(home, ['--root', endpoints.url])).code).toBe(0);
  });
});
