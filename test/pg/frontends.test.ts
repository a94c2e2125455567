// Several frontends on one PostgreSQL (#17, docs/design/scale-out.md): `sigil serve log` processes on the same
// database and data dir, one of them elected sequencer, the others forwarding appends to it. Appends through both
// make one tree; a checkpoint served by one is never behind an acknowledgement from the other; kill -9 of the
// sequencer under load hands the log to the other within 5 s with nothing acknowledged lost and every checkpoint
// seen consistent with the new head; PostgreSQL stopped and started again under load gives 503s with Retry-After
// meanwhile (never a 500 or a hang) and the frontends carry on without a restart.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/merkle/index.js';
import { hashedRekord, newKey } from '../log/helpers.js';
import { type PostgresCluster, startPostgres } from './cluster.js';
import { describePostgres } from './suite.js';

const ROOT = join(import.meta.dirname, '..', '..');
const hex = (s: string) => Buffer.from(s, 'hex');

interface Frontend {
  url: string;
  proc: ChildProcess;
}

interface Ack {
  uuid: string;
  index: number;
  body: string;
  size: number;
  root: string;
}

interface EntryJson {
  logIndex: number;
  body: string;
  verification: {
    inclusionProof: { logIndex: number; treeSize: number; rootHash: string; hashes: string[] };
  };
}

let cluster: PostgresCluster;
let dataDir: string;
let database: string;
const running: ChildProcess[] = [];

/** `sigil serve <service>` on the shared data dir and database, port 0; resolves once it listens. */
async function serve(service = 'log'): Promise<Frontend> {
  const proc = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/sigil.js'),
      'serve',
      service,
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--log-level',
      'error',
      '--database',
      database,
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  running.push(proc);
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`sigil serve ${service} exited ${code}: ${err}`)));
  });
  return { url, proc };
}

const key = newKey();
let n = 0;

/** One append; never throws: an answer that did not come is status 0. */
async function append(url: string): Promise<{ status: number; retryAfter: string | null; ack?: Ack }> {
  const proposed = hashedRekord(Buffer.from(`frontends test ${n++} ${Date.now()} ${Math.random()}`), key);
  try {
    const r = await fetch(`${url}/api/v1/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(proposed),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await r.text();
    if (r.status !== 201) return { status: r.status, retryAfter: r.headers.get('retry-after') };
    const [[uuid, e]] = Object.entries(JSON.parse(text) as Record<string, EntryJson>);
    const p = e.verification.inclusionProof;
    return {
      status: 201,
      retryAfter: null,
      ack: { uuid, index: e.logIndex, body: e.body, size: p.treeSize, root: p.rootHash },
    };
  } catch {
    return { status: 0, retryAfter: null };
  }
}

async function logInfo(url: string): Promise<{ treeSize: number; rootHash: string }> {
  const r = await fetch(`${url}/api/v1/log`);
  expect(r.status).toBe(200);
  return (await r.json()) as { treeSize: number; rootHash: string };
}

/** Every acknowledged entry is served by `url` at its index, with an inclusion proof that verifies. */
async function expectAllThere(url: string, acks: Ack[]): Promise<void> {
  for (const a of acks) {
    const r = await fetch(`${url}/api/v1/log/entries/${a.uuid}`);
    expect(r.status, `entry ${a.index} (${a.uuid})`).toBe(200);
    const e = Object.values((await r.json()) as Record<string, EntryJson>)[0];
    expect(e.logIndex).toBe(a.index);
    expect(e.body).toBe(a.body);
    const p = e.verification.inclusionProof;
    const leaf = leafHash(Buffer.from(e.body, 'base64'));
    expect(verifyInclusion(a.index, p.treeSize, leaf, p.hashes.map(hex), hex(p.rootHash))).toBe(true);
  }
}

/** Every checkpoint an acknowledgement carried is consistent with `url`'s current head. */
async function expectConsistent(url: string, acks: Ack[]): Promise<void> {
  const head = await logInfo(url);
  const seen = new Map(acks.map((a) => [a.size, a.root]));
  for (const [size, root] of seen) {
    if (size === head.treeSize) {
      expect(root).toBe(head.rootHash);
      continue;
    }
    const r = await fetch(`${url}/api/v1/log/proof?firstSize=${size}&lastSize=${head.treeSize}`);
    expect(r.status).toBe(200);
    const proof = (await r.json()) as { rootHash: string; hashes: string[] };
    expect(proof.rootHash).toBe(head.rootHash);
    expect(
      verifyConsistency(size, head.treeSize, hex(root), hex(head.rootHash), proof.hashes.map(hex)),
      `checkpoint of size ${size} consistent with ${head.treeSize}`,
    ).toBe(true);
  }
}

/** Appends through `url` from `workers` loops until `stop` is set; answers are recorded. */
function loadOn(
  url: string,
  workers: number,
  out: { acks: Ack[]; statuses: number[]; noRetryAfter: number },
) {
  let stopped = false;
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped) {
      const r = await append(url);
      out.statuses.push(r.status);
      if (r.ack) out.acks.push(r.ack);
      else {
        if (r.status === 503 && r.retryAfter === null) out.noRetryAfter++;
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  });
  return async () => {
    stopped = true;
    await Promise.all(loops);
  };
}

describePostgres('frontends on one PostgreSQL: one elected sequencer, failover (#17)', () => {
  let a: Frontend;
  let b: Frontend;
  const all: Ack[] = [];

  beforeAll(async () => {
    cluster = await startPostgres();
    database = await cluster.createDatabase('frontends');
    dataDir = await mkdtemp(join(tmpdir(), 'sigil-frontends-'));
    // The first opener makes the log's key and tables; the second finds them.
    a = await serve();
    b = await serve();
  }, 60_000);

  afterAll(async () => {
    for (const p of running) p.kill('SIGKILL');
    cluster?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('appends through both frontends make one tree, and either serves every entry with its proof', async () => {
    const results = await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        const acks: Ack[] = [];
        for (let i = 0; i < 20; i++) {
          const r = await append(w % 2 ? b.url : a.url);
          expect(r.status).toBe(201);
          acks.push(r.ack as Ack);
        }
        return acks;
      }),
    );
    const acks = results.flat();
    all.push(...acks);
    expect(new Set(acks.map((x) => x.index)).size).toBe(320);
    const [ha, hb] = [await logInfo(a.url), await logInfo(b.url)];
    expect(hb).toEqual(ha);
    expect(ha.treeSize).toBe(320);
    expect([...acks.map((x) => x.index)].sort((x, y) => x - y)).toEqual([...Array(320).keys()]);
    await expectAllThere(b.url, acks.slice(0, 40));
    await expectAllThere(a.url, acks.slice(-40));
    await expectConsistent(b.url, acks);
  }, 120_000);

  it('a checkpoint served by one frontend is never behind an entry acknowledged by the other', async () => {
    for (let i = 0; i < 20; i++) {
      const [from, to] = i % 2 ? [a, b] : [b, a];
      const r = await append(from.url);
      expect(r.status).toBe(201);
      all.push(r.ack as Ack);
      const head = await logInfo(to.url);
      expect(head.treeSize).toBeGreaterThanOrEqual((r.ack as Ack).size);
      // And the entry is there to read at once, with a tile covering it.
      const e = await fetch(`${to.url}/api/v1/log/entries?logIndex=${(r.ack as Ack).index}`);
      expect(e.status).toBe(200);
    }
  }, 60_000);

  it('the sequencer takes forwarded batches only with the deployment secret (0600 in the shared data dir)', async () => {
    const path = join(dataDir, 'log', 'sequencer.secret');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const secret = (await readFile(path, 'utf8')).trim();
    const before = await logInfo(a.url);
    const post = (authorization: string | undefined, body: Buffer) =>
      fetch(`${a.url}/internal/sequencer/log`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', ...(authorization ? { authorization } : {}) },
        body,
      });
    // A well-formed batch of one leaf: refused without the secret, with another one, or with the secret's prefix.
    const leaf = Buffer.from('{"not":"validated"}');
    const batch = Buffer.concat([Buffer.from([0, 0, 0, leaf.length]), leaf, Buffer.from([0, 1, 7, 0, 0, 0])]);
    for (const auth of [undefined, `Bearer ${'0'.repeat(64)}`, `Bearer ${secret.slice(0, 32)}`, secret]) {
      const r = await post(auth, batch);
      expect(r.status, String(auth)).toBe(401);
      expect(((await r.json()) as { message: string }).message).toMatch(/secret/);
    }
    // With the secret, a truncated batch is a 400 that says so.
    const truncated = await post(`Bearer ${secret}`, batch.subarray(0, 10));
    expect(truncated.status).toBe(400);
    expect(((await truncated.json()) as { message: string }).message).toMatch(/truncated/);
    expect(await logInfo(a.url)).toEqual(before);
  });

  it('kill -9 of the sequencer under load: the other frontend sequences within 5 s, nothing acknowledged is lost', async () => {
    const onA = { acks: [] as Ack[], statuses: [] as number[], noRetryAfter: 0 };
    const onB = { acks: [] as Ack[], statuses: [] as number[], noRetryAfter: 0 };
    const stopA = loadOn(a.url, 4, onA);
    const stopB = loadOn(b.url, 4, onB);
    await new Promise((r) => setTimeout(r, 1500));
    const before = onB.acks.length;
    expect(before).toBeGreaterThan(0);
    a.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise((r) => a.proc.once('exit', r));
    // Taken over: an append through b acknowledged after the kill.
    let tookOver = 0;
    while (Date.now() - killedAt < 15_000) {
      const r = await append(b.url);
      if (r.ack) {
        onB.acks.push(r.ack);
        tookOver = Date.now() - killedAt;
        break;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    await new Promise((r) => setTimeout(r, 1000));
    await stopA();
    await stopB();
    expect(tookOver, 'a frontend sequences again after the kill').toBeGreaterThan(0);
    expect(tookOver).toBeLessThanOrEqual(5000);
    // While b waited for the lease it answered 503 with Retry-After or forwarded; never a 500.
    expect(onB.statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
    expect(onB.noRetryAfter).toBe(0);
    const acks = [...onA.acks, ...onB.acks];
    all.push(...acks);
    expect(new Set(all.map((x) => x.index)).size).toBe(all.length);
    await expectAllThere(b.url, acks);
    await expectConsistent(b.url, all);
    // The killed frontend comes back as a follower of the new sequencer.
    a = await serve();
    const r = await append(a.url);
    expect(r.status).toBe(201);
    all.push(r.ack as Ack);
    expect(await logInfo(a.url)).toEqual(await logInfo(b.url));
  }, 120_000);

  it('PostgreSQL stopped and started under load: 503 with Retry-After meanwhile, then appends again, no restart', async () => {
    const onA = { acks: [] as Ack[], statuses: [] as number[], noRetryAfter: 0 };
    const onB = { acks: [] as Ack[], statuses: [] as number[], noRetryAfter: 0 };
    const stopA = loadOn(a.url, 3, onA);
    const stopB = loadOn(b.url, 3, onB);
    await new Promise((r) => setTimeout(r, 1000));
    cluster.stop();
    const statusesBefore = onA.statuses.length + onB.statuses.length;
    await new Promise((r) => setTimeout(r, 2000));
    const whileDown = [...onA.statuses, ...onB.statuses].length - statusesBefore;
    cluster.start();
    const upAt = Date.now();
    // Both frontends acknowledge appends again.
    const recovered = async (url: string) => {
      while (Date.now() - upAt < 20_000) {
        const r = await append(url);
        if (r.ack) return r.ack;
        await new Promise((res) => setTimeout(res, 100));
      }
      return undefined;
    };
    const [ra, rb] = [await recovered(a.url), await recovered(b.url)];
    await stopA();
    await stopB();
    expect(ra, 'frontend a appends after the database is back').toBeDefined();
    expect(rb, 'frontend b appends after the database is back').toBeDefined();
    // Requests kept being answered while the database was down (no hang), as 503s with Retry-After.
    expect(whileDown).toBeGreaterThan(0);
    const statuses = [...onA.statuses, ...onB.statuses];
    expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
    expect(onA.noRetryAfter + onB.noRetryAfter).toBe(0);
    const acks = [...onA.acks, ...onB.acks, ra as Ack, rb as Ack];
    all.push(...acks);
    expect(new Set(all.map((x) => x.index)).size).toBe(all.length);
    await expectAllThere(a.url, acks);
    await expectConsistent(a.url, all);
    expect(await logInfo(a.url)).toEqual(await logInfo(b.url));
  }, 120_000);
});
