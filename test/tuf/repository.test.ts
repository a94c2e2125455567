// The TUF repository engine on a real directory, without HTTP: canonical JSON stays inside the subset where TUF's
// OLPC form and RFC 8785 agree, key IDs are §4.2's, each role is re-signed exactly when its content changes or it
// nears expiry (a clock moved forward shows the schedule), published versions never change, the root key can be
// kept offline, and a root rotation is signed by both keys.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  canonicalJson,
  type Metadata,
  parseMetadata,
  type RootSigned,
  type TimestampSigned,
  tufDateTime,
  tufKeyId,
} from '../../src/formats/index.js';
import { openTufRepository, RENEW_BEFORE, roleKeyPath, TUF_DIR } from '../../src/tuf/index.js';
import { meetsThreshold, tufKeyOf } from '../../src/tuf/keys.js';
import { planRefresh, sameTargets } from '../../src/tuf/plan.js';
import { publishOnce } from '../../src/tuf/store.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const dirs: string[] = [];
async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sigil-tuf-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const targets = (root: string, signing = '{"mediaType":"sc"}') => [
  { name: 'trusted_root.json', bytes: Buffer.from(root) },
  { name: 'signing_config.v0.2.json', bytes: Buffer.from(signing) },
];

async function published(d: string, name: string) {
  return readFile(join(d, TUF_DIR, 'repository', name));
}
async function timestamp(d: string): Promise<Metadata<TimestampSigned>> {
  return parseMetadata<TimestampSigned>(await published(d, 'timestamp.json'), 'timestamp');
}

describe('TUF canonical JSON and keys', () => {
  it('sorts keys and refuses what OLPC canonical JSON would encode differently', () => {
    expect(canonicalJson({ b: 1, a: ['x', true, null], c: { é: 'ü' } }).toString()).toBe(
      '{"a":["x",true,null],"b":1,"c":{"é":"ü"}}',
    );
    expect(() => canonicalJson({ a: 1.5 })).toThrow(/not an integer/);
    expect(() => canonicalJson({ a: 'line\nbreak' })).toThrow(/control character/);
    expect(() => canonicalJson({ a: '\uD800' })).toThrow(/lone surrogate/);
    expect(() => canonicalJson({ '\u{1F600}': 1 })).toThrow(/outside the BMP/);
  });

  it('names an Ed25519 key by the SHA-256 of its canonical form, its public half in hex (§4.2)', async () => {
    const d = await dataDir();
    await openTufRepository(d);
    const root = parseMetadata<RootSigned>(await published(d, '1.root.json'), 'root').signed;
    for (const [keyid, key] of Object.entries(root.keys)) {
      expect(key.keytype).toBe('ed25519');
      expect(key.keyval.public).toMatch(/^[0-9a-f]{64}$/);
      expect(keyid).toBe(createHash('sha256').update(canonicalJson(key)).digest('hex'));
      expect(tufKeyId(key)).toBe(keyid);
    }
    expect(tufDateTime(new Date('2030-01-02T03:04:05.678Z'))).toBe('2030-01-02T03:04:05Z');
  });
});

describe('refresh plan', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const at = (ms: number) => tufDateTime(new Date(now.getTime() + ms));
  const file = { length: 1, hashes: { sha256: 'aa' } };
  const current = {
    root: { expires: at(300 * DAY) } as RootSigned,
    targets: { _type: 'targets', version: 3, expires: at(300 * DAY), targets: { t: file } },
    snapshot: {
      _type: 'snapshot',
      version: 5,
      expires: at(6 * DAY),
      meta: { 'targets.json': { version: 3 } },
    },
    timestamp: {
      _type: 'timestamp',
      version: 9,
      expires: at(20 * HOUR),
      meta: { 'snapshot.json': { version: 5 } },
    },
  } as unknown as Parameters<typeof planRefresh>[0];

  it('re-signs nothing when nothing changed or nears expiry', () => {
    expect(planRefresh(current, { t: file }, now)).toEqual({
      root: false,
      targets: false,
      snapshot: false,
      timestamp: false,
    });
  });
  it('a changed target re-signs targets, snapshot and timestamp', () => {
    const changed = { t: { ...file, length: 2 } };
    expect(sameTargets({ t: file }, changed)).toBe(false);
    expect(planRefresh(current, changed, now)).toEqual({
      root: false,
      targets: true,
      snapshot: true,
      timestamp: true,
    });
  });
  it('each role is renewed on its own schedule', () => {
    const later = (ms: number) => new Date(now.getTime() + ms);
    expect(planRefresh(current, { t: file }, later(20 * HOUR - RENEW_BEFORE.timestamp + 1))).toMatchObject({
      snapshot: false,
      timestamp: true,
    });
    expect(planRefresh(current, { t: file }, later(6 * DAY - RENEW_BEFORE.snapshot + 1))).toMatchObject({
      targets: false,
      snapshot: true,
      timestamp: true,
    });
    expect(planRefresh(current, { t: file }, later(300 * DAY - RENEW_BEFORE.root + 1))).toMatchObject({
      root: true,
      targets: true,
    });
  });
});

describe('TufRepository', () => {
  it('creates its keys (0600 in a 0700 dir) and the first root with consistent snapshots', async () => {
    const d = await dataDir();
    await openTufRepository(d);
    const keys = join(d, TUF_DIR, 'keys');
    expect((await stat(keys)).mode & 0o777).toBe(0o700);
    const pems = (await readdir(keys)).filter((f) => f.endsWith('.pem'));
    expect(pems.sort()).toEqual(['root.pem', 'snapshot.pem', 'targets.pem', 'timestamp.pem']);
    for (const f of pems) expect((await stat(join(keys, f))).mode & 0o777).toBe(0o600);
    const md = parseMetadata<RootSigned>(await published(d, '1.root.json'), 'root');
    expect(md.signed.consistent_snapshot).toBe(true);
    expect(Object.keys(md.signed.roles).sort()).toEqual(['root', 'snapshot', 'targets', 'timestamp']);
    expect(meetsThreshold(md, md.signed.keys, md.signed.roles.root)).toBe(true);
    expect(await published(d, 'root.json')).toEqual(await published(d, '1.root.json'));
    // Opening again reuses everything.
    await openTufRepository(d);
    expect((await readdir(join(d, TUF_DIR, 'repository'))).sort()).toEqual(['1.root.json', 'root.json']);
  });

  it('publishes targets hash-prefixed and bumps versions only when something changes', async () => {
    const d = await dataDir();
    const repo = await openTufRepository(d);
    const first = await repo.refresh(targets('{"v":1}'));
    const sha = createHash('sha256').update('{"v":1}').digest('hex');
    expect(first.published).toEqual(
      expect.arrayContaining([
        `targets/${sha}.trusted_root.json`,
        '1.targets.json',
        '1.snapshot.json',
        'timestamp.json',
      ]),
    );
    expect((await published(d, `targets/${sha}.trusted_root.json`)).toString()).toBe('{"v":1}');
    expect((await repo.refresh(targets('{"v":1}'))).published).toEqual([]);
    const second = await repo.refresh(targets('{"v":2}'));
    expect(second.published).toEqual(expect.arrayContaining(['2.targets.json', '2.snapshot.json']));
    const ts = await timestamp(d);
    expect(ts.signed.version).toBe(2);
    expect(ts.signed.meta['snapshot.json'].version).toBe(2);
    // The old target file stays: a client mid-update may still be fetching version 1.
    expect((await published(d, `targets/${sha}.trusted_root.json`)).toString()).toBe('{"v":1}');
    const status = await repo.status();
    expect(status.targets?.version).toBe(2);
    expect(status.targetNames.sort()).toEqual(['signing_config.v0.2.json', 'trusted_root.json']);
  });

  it('renews the timestamp, then the snapshot, as time passes; the root too while its key is at hand', async () => {
    const d = await dataDir();
    let now = Date.now();
    const repo = await openTufRepository(d, { now: () => new Date(now) });
    await repo.refresh(targets('{}'));
    now += 13 * HOUR;
    expect((await repo.refresh(targets('{}'))).published).toEqual(['timestamp.json']);
    now += 4 * DAY;
    expect((await repo.refresh(targets('{}'))).published).toEqual(['2.snapshot.json', 'timestamp.json']);
    expect((await timestamp(d)).signed.version).toBe(3);

    // A year on: the root is renewed with the key in the data dir; with the key moved away, a warning instead.
    now += 330 * DAY;
    const renewed = await repo.refresh(targets('{}'));
    expect(renewed.published).toEqual(expect.arrayContaining(['2.root.json', 'root.json', '2.targets.json']));
    expect(renewed.warnings).toEqual([]);
    await rename(roleKeyPath(join(d, TUF_DIR), 'root'), join(d, 'root-offline.pem'));
    now += 330 * DAY;
    const offline = await repo.refresh(targets('{}'));
    expect(offline.published).not.toContain('3.root.json');
    expect(offline.warnings.join()).toMatch(/root metadata expires .* root key is not in/);
  });

  it('never replaces a published version, and skips a version a crash left unpublished', async () => {
    const d = await dataDir();
    const repo = await openTufRepository(d);
    await repo.refresh(targets('{"a":1}'));
    const repoDir = join(d, TUF_DIR, 'repository');
    await expect(publishOnce(repoDir, '1.targets.json', Buffer.from('{}'))).rejects.toThrow(
      /already published with other contents/,
    );
    await publishOnce(repoDir, '1.targets.json', await published(d, '1.targets.json'));
    // A writer that died after writing 2.targets.json but before a timestamp led to it: the next change is 3.
    await writeFile(join(repoDir, '2.targets.json'), 'orphan');
    const r = await repo.refresh(targets('{"c":3}'));
    expect(r.published).toEqual(expect.arrayContaining(['3.targets.json', '2.snapshot.json']));
    expect((await published(d, '2.targets.json')).toString()).toBe('orphan');
    const snapshot = JSON.parse((await published(d, '2.snapshot.json')).toString()).signed;
    expect(snapshot.meta['targets.json'].version).toBe(3);
  });

  it('rotates the root key: version N+1 signed by the old and new keys, the new key replacing the old file', async () => {
    const d = await dataDir();
    const repo = await openTufRepository(d);
    await repo.refresh(targets('{}'));
    const keyPath = roleKeyPath(join(d, TUF_DIR), 'root');
    const oldPem = await readFile(keyPath, 'utf8');
    const r = await repo.rotateRoot();
    expect(r.version).toBe(2);
    const v1 = parseMetadata<RootSigned>(await published(d, '1.root.json'), 'root').signed;
    const v2md = parseMetadata<RootSigned>(await published(d, '2.root.json'), 'root');
    const v2 = v2md.signed;
    expect(v2.roles.root.keyids).toEqual([r.keyid]);
    expect(v2.keys[r.retired]).toBeUndefined();
    // §5.3.4: a threshold of the old root's keys and of the new root's own.
    expect(meetsThreshold(v2md, v1.keys, v1.roles.root)).toBe(true);
    expect(meetsThreshold(v2md, v2.keys, v2.roles.root)).toBe(true);
    for (const role of ['targets', 'snapshot', 'timestamp'] as const)
      expect(v2.roles[role]).toEqual(v1.roles[role]);
    const newPem = await readFile(keyPath, 'utf8');
    expect(newPem).not.toBe(oldPem);
    const { createPrivateKey, createPublicKey } = await import('node:crypto');
    expect(tufKeyId(tufKeyOf(createPublicKey(createPrivateKey(newPem))))).toBe(r.keyid);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect(await published(d, 'root.json')).toEqual(await published(d, '2.root.json'));
    // The retired key no longer signs for the root.
    await expect(repo.rotateRoot({ rootKeyPath: join(d, 'nowhere.pem') })).rejects.toThrow(/no root key at/);
  });

  it('refuses to build on a root the key in hand did not sign, and to invent a repository', async () => {
    const d = await dataDir();
    const repo = await openTufRepository(d);
    const stranger = await dataDir();
    await openTufRepository(stranger);
    await expect(
      repo.rotateRoot({ rootKeyPath: roleKeyPath(join(stranger, TUF_DIR), 'root') }),
    ).rejects.toThrow(/is not the key that signed root version 1/);
    await expect(openTufRepository(await dataDir(), { create: false })).rejects.toThrow(/no TUF repository/);
    // A lost online key is not silently replaced by a new one the root does not name.
    await rm(roleKeyPath(join(d, TUF_DIR), 'timestamp'));
    await expect(openTufRepository(d)).rejects.toThrow(/is not the timestamp key the current root names/);
  });
});
