// tuf-js (sigstore-js's TUF client) against `sigil up`'s /tuf/ on loopback: it fetches and verifies both Sigstore
// targets, byte-identical to the trust files in the data dir; it refuses doctored mirrors (a tampered target, a
// targets.json listing another hash, a timestamp that has expired, a timestamp older than one it has seen); and
// it follows a root rotation made with `sigil tuf rotate-root`, the real binary working beside the server.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Endpoints,
  lateUrl,
  type RunningServer,
  serviceFactories,
  startServer,
  startStack,
  trustTargets,
} from '../../src/server/index.js';
import { openTufRepository, readTargets, TUF_DIR } from '../../src/tuf/index.js';
import { sigil } from '../sign/helpers.js';
import {
  exportCopy,
  flipByte,
  removeTemporaryDirs,
  type StaticServer,
  serveDirectory,
  sha256hex,
  targetFile,
  tufClient,
} from './doctored-mirror.js';

const DAY = 86_400_000;

describe('tuf-js ⇄ sigil up /tuf', () => {
  let dataDir: string;
  let server: RunningServer;
  let endpoints: Endpoints;
  let root1: Buffer;
  const mirrors: StaticServer[] = [];
  const temps: string[] = [];
  const temp = async (prefix: string) => {
    const d = await mkdtemp(join(tmpdir(), prefix));
    temps.push(d);
    return d;
  };
  const serve = async (dir: string) => {
    const m = await serveDirectory(dir);
    mirrors.push(m);
    return m.url;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sigil-tuf-up-'));
    ({ server, endpoints } = await startStack({ dataDir, port: 0, logLevel: 'silent' }));
    root1 = await readFile(endpoints.tufRoot);
  });
  afterAll(async () => {
    for (const m of mirrors) await m.close();
    await server?.close();
    for (const d of [dataDir, ...temps]) if (d) await rm(d, { recursive: true, force: true });
    await removeTemporaryDirs();
  });

  it('fetches trusted_root.json and signing_config.v0.2.json, the data dir’s trust files byte for byte', async () => {
    expect(endpoints.tufMirror).toBe(`${endpoints.url}/tuf`);
    const c = await tufClient(endpoints.tufMirror, root1);
    await c.updater.refresh();
    expect(await c.target('trusted_root.json')).toEqual(await readFile(endpoints.trustedRoot));
    expect(await c.target('signing_config.v0.2.json')).toEqual(await readFile(endpoints.signingConfig));

    // The wire layout (§6.2): versioned metadata, an unversioned timestamp, hash-prefixed targets.
    const trusted = await readFile(endpoints.trustedRoot);
    const t = await fetch(`${endpoints.tufMirror}/targets/${sha256hex(trusted)}.trusted_root.json`);
    expect(t.status).toBe(200);
    expect(t.headers.get('cache-control')).toContain('immutable');
    expect(Buffer.from(await t.arrayBuffer())).toEqual(trusted);
    const ts = await fetch(`${endpoints.tufMirror}/timestamp.json`);
    expect(ts.headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${endpoints.tufMirror}/1.root.json`)).status).toBe(200);
    for (const p of ['keys/root.pem', '..%2Fkeys%2Froot.pem', 'targets/trusted_root.json', 'snapshot.json'])
      expect((await fetch(`${endpoints.tufMirror}/${p}`)).status, p).toBe(404);
  });

  it('`sigil serve tuf` alone serves the same repository from the same data dir', async () => {
    const url = lateUrl();
    const alone = await startServer([await serviceFactories.tuf({ dataDir, publicUrl: url.get }, {})], {
      logLevel: 'silent',
      onUrl: url.set,
    });
    try {
      const health = (await (await fetch(`${alone.url}/healthz`)).json()) as { services: string[] };
      expect(health.services).toEqual(['tuf']);
      const c = await tufClient(`${alone.url}/tuf`, root1);
      await c.updater.refresh();
      expect(await c.target('trusted_root.json')).toEqual(await readFile(endpoints.trustedRoot));
      // Nothing changed, so nothing was re-signed: both servers publish one timestamp.
      expect(await (await fetch(`${alone.url}/tuf/timestamp.json`)).text()).toBe(
        await (await fetch(`${endpoints.tufMirror}/timestamp.json`)).text(),
      );
    } finally {
      await alone.close();
    }
  });

  it('refuses a tampered target', async () => {
    const copy = await exportCopy(dataDir);
    await flipByte(await targetFile(copy, 'trusted_root.json'));
    const c = await tufClient(await serve(copy), root1);
    await c.updater.refresh();
    await expect(c.target('trusted_root.json')).rejects.toThrow(/^Expected hash [0-9a-f]{64} but got/);
    // The untouched target still verifies: only the changed file is refused.
    expect(await c.target('signing_config.v0.2.json')).toEqual(await readFile(endpoints.signingConfig));
  });

  it('refuses a targets.json listing another hash for a target (and serving that file)', async () => {
    // Same length, same layout, one hash changed: only the snapshot's hash of targets.json (and the targets
    // key's signature behind it) stands between the client and the substituted file.
    const copy = await exportCopy(dataDir);
    const evil = await readFile(endpoints.trustedRoot);
    evil[20] ^= 0x01;
    const targetsPath = join(copy, '1.targets.json');
    const targets = JSON.parse(await readFile(targetsPath, 'utf8'));
    targets.signed.targets['trusted_root.json'].hashes.sha256 = sha256hex(evil);
    const doctored = `${JSON.stringify(targets, null, 2)}\n`;
    expect(doctored.length).toBe((await readFile(targetsPath, 'utf8')).length);
    await writeFile(targetsPath, doctored);
    await writeFile(join(copy, 'targets', `${sha256hex(evil)}.trusted_root.json`), evil);
    const c = await tufClient(await serve(copy), root1);
    await expect(c.updater.refresh()).rejects.toThrow(/Unable to load targets .*Expected hash/);
  });

  it('refuses a timestamp that has expired (a properly signed one, replayed after its time)', async () => {
    // The doctored mirror's timestamp.json (and the snapshot it names) were signed two days ago with the real
    // keys, valid for one day: what a freeze attacker replaying old metadata would serve.
    const scratch = await temp('sigil-tuf-past-');
    await cp(join(dataDir, TUF_DIR), join(scratch, TUF_DIR), { recursive: true });
    const past = await openTufRepository(scratch, { now: () => new Date(Date.now() - 2 * DAY) });
    await past.refresh(await readTargets(trustTargets(dataDir)), { validForMs: DAY });
    const c = await tufClient(await serve(await exportCopy(scratch)), root1);
    await expect(c.updater.refresh()).rejects.toThrow(/timestamp\.json is expired/);
  });

  it('refuses to roll back to a timestamp older than one it has seen', async () => {
    const old = await exportCopy(dataDir);
    // `sigil tuf export --valid-for` re-signs snapshot and timestamp in the live repository (new versions).
    const out = await temp('sigil-tuf-export-');
    const exported = await sigil(['tuf', 'export', out, '--data-dir', dataDir, '--valid-for', '2d']);
    expect(exported.code, exported.stderr).toBe(0);
    const c = await tufClient(endpoints.tufMirror, root1);
    await c.updater.refresh();
    const seen = JSON.parse(await readFile(join(c.dir, 'timestamp.json'), 'utf8')).signed.version;
    const oldVersion = JSON.parse(await readFile(join(old, 'timestamp.json'), 'utf8')).signed.version;
    expect(seen).toBeGreaterThan(oldVersion);
    const rolledBack = await tufClient(await serve(old), undefined, c.dir);
    await expect(rolledBack.updater.refresh()).rejects.toThrow(
      /New timestamp version \d+ is less than current version/,
    );
    // The exported copy is a working mirror on its own, valid for the two days asked for.
    const fromExport = await tufClient(await serve(out), root1);
    await fromExport.updater.refresh();
    expect(await fromExport.target('trusted_root.json')).toEqual(await readFile(endpoints.trustedRoot));
    const ts = JSON.parse(await readFile(join(out, 'timestamp.json'), 'utf8')).signed;
    expect(Date.parse(ts.expires) - Date.now()).toBeGreaterThan(1.9 * DAY);
  });

  it('follows a root rotation made with `sigil tuf rotate-root` while the server runs', async () => {
    const before = await tufClient(endpoints.tufMirror, root1);
    await before.updater.refresh();
    const rotated = await sigil(['tuf', 'rotate-root', '--data-dir', dataDir]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const newKeyId = /the new key ([0-9a-f]{64})/.exec(rotated.stdout)?.[1];
    expect(newKeyId).toBeDefined();
    expect((await fetch(`${endpoints.tufMirror}/2.root.json`)).status).toBe(200);

    // A client that trusted version 1 updates to version 2 (signed by the old and new keys) and carries on.
    const after = await tufClient(endpoints.tufMirror, undefined, before.dir);
    await after.updater.refresh();
    const trusted = JSON.parse(await readFile(join(before.dir, 'root.json'), 'utf8')).signed;
    expect(trusted.version).toBe(2);
    expect(trusted.roles.root.keyids).toEqual([newKeyId]);
    expect(await after.target('trusted_root.json')).toEqual(await readFile(endpoints.trustedRoot));
    // So does a new client bootstrapped from the first root; and root.json is now version 2.
    const fresh = await tufClient(endpoints.tufMirror, root1);
    await fresh.updater.refresh();
    expect(JSON.parse(await readFile(join(fresh.dir, 'root.json'), 'utf8')).signed.version).toBe(2);
    expect(JSON.parse(await readFile(endpoints.tufRoot, 'utf8')).signed.version).toBe(2);

    const status = await sigil(['tuf', 'status', '--data-dir', dataDir]);
    expect(status.stdout).toMatch(/^root\s+version 2, expires \S+, key [0-9a-f]{64}$/m);

    // A doctored mirror offering a 3.root.json that version 2's key did not sign (another repository's) is
    // refused: each new root must carry the previous root's signatures (§5.3.4).
    const stranger = await temp('sigil-tuf-stranger-');
    const strangerRepo = await openTufRepository(stranger);
    await strangerRepo.rotateRoot();
    await strangerRepo.rotateRoot();
    const copy = await exportCopy(dataDir);
    await writeFile(
      join(copy, '3.root.json'),
      await readFile(join(stranger, TUF_DIR, 'repository', '3.root.json')),
    );
    const hijacked = await tufClient(await serve(copy), undefined, before.dir);
    await expect(hijacked.updater.refresh()).rejects.toThrow(/root was signed by 0\/1 keys/);
    expect(JSON.parse(await readFile(join(before.dir, 'root.json'), 'utf8')).signed.version).toBe(2);
  });
});
