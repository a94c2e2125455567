// kill -9 under load: a separate process appends as fast as it can while the log (a child `sigil serve log`) is
// SIGKILLed and restarted on the same data dir. Every entry that got a 201 is still there at the same index, and
// the restarted log proves consistency from every checkpoint handed out before the crash.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckpoint, parseSignedNote } from '../../src/formats/index.js';
import { leafHash, verifyConsistency } from '../../src/merkle/index.js';

const root = resolve(import.meta.dirname, '../..');

function startServer(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['bin/sigil.js', 'serve', 'log', '--data-dir', dataDir, '--port', '0', '--log-level', 'silent'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  return new Promise((res, rej) => {
    let err = '';
    child.stderr?.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) res({ child, url: m[1] });
    });
    child.on('exit', (code) => rej(new Error(`server exited with ${code}: ${err}`)));
  });
}

// The load generator: its own process, many concurrent POSTs, one JSON line per 201 on stdout.
const GENERATOR = `
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
const url = process.argv[2];
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = Buffer.from(publicKey.export({ type: 'spki', format: 'pem' })).toString('base64');
let n = 0, dead = false;
async function worker(w) {
  while (!dead) {
    const artifact = Buffer.from('crash-' + process.pid + '-' + w + '-' + n++);
    const body = JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: {
      data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(artifact).digest('hex') } },
      signature: { content: sign('sha256', artifact, privateKey).toString('base64'), publicKey: { content: pem } } } });
    try {
      const res = await fetch(url + '/api/v1/log/entries', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const json = await res.json();
      if (res.status !== 201) { process.stderr.write('unexpected ' + res.status + ' ' + JSON.stringify(json) + '\\n'); continue; }
      const [id] = Object.keys(json);
      const e = json[id];
      process.stdout.write(JSON.stringify({ id, index: e.logIndex, body: e.body, proof: e.verification.inclusionProof }) + '\\n');
    } catch { dead = true; }
  }
}
await Promise.all(Array.from({ length: 24 }, (_, w) => worker(w)));
`;

interface Ack {
  id: string;
  index: number;
  body: string;
  proof: { treeSize: number; rootHash: string; checkpoint: string };
}

let dataDir: string;
beforeAll(async () => {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  dataDir = await mkdtemp(join(tmpdir(), 'sigil-crash-'));
});

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('crash safety', () => {
  it('keeps every acknowledged entry across kill -9 and proves consistency with every earlier checkpoint', async () => {
    const first = await startServer(dataDir);
    children.push(first.child);
    const logKey = createPublicKey(await (await fetch(`${first.url}/api/v1/log/publicKey`)).text());
    const genFile = join(dataDir, 'generator.mjs');
    await writeFile(genFile, GENERATOR);
    const gen = spawn(process.execPath, [genFile, first.url], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(gen);
    let out = '';
    gen.stdout?.on('data', (d) => {
      out += d;
    });
    const genDone = new Promise((res) => gen.on('exit', res));
    // Let it run until a good number of entries are acknowledged, then kill the server mid-load.
    const started = Date.now();
    // Complete lines only: the text after the last newline may be a partly written one.
    while (out.split('\n').length - 1 < 400 && Date.now() - started < 30_000)
      await new Promise((r) => setTimeout(r, 50));
    first.child.kill('SIGKILL');
    await genDone;
    const acks: Ack[] = out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
    expect(acks.length).toBeGreaterThanOrEqual(400);

    const second = await startServer(dataDir);
    children.push(second.child);
    const info = (await (await fetch(`${second.url}/api/v1/log`)).json()) as {
      treeSize: number;
      rootHash: string;
    };
    const maxIndex = Math.max(...acks.map((a) => a.index));
    expect(info.treeSize).toBeGreaterThan(maxIndex);

    // Every acknowledged entry, at its index, with its body.
    const seen = new Set<number>();
    for (let i = 0; i < acks.length; i += 10) {
      const batch = acks.slice(i, i + 10);
      const res = await fetch(`${second.url}/api/v1/log/entries/retrieve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ entryUUIDs: batch.map((a) => a.id) }),
      });
      const found = (await res.json()) as Record<string, { logIndex: number; body: string }>[];
      expect(found).toHaveLength(batch.length);
      found.forEach((f, j) => {
        const e = f[batch[j].id];
        expect(e.logIndex).toBe(batch[j].index);
        expect(e.body).toBe(batch[j].body);
        expect(leafHash(Buffer.from(e.body, 'base64')).toString('hex')).toBe(batch[j].id.slice(16));
        seen.add(e.logIndex);
      });
    }
    expect(seen.size).toBe(acks.length);

    // Consistency from every checkpoint the clients were given to the head after restart.
    const checkpoints = new Map<number, string>();
    for (const a of acks) checkpoints.set(a.proof.treeSize, a.proof.checkpoint);
    expect(checkpoints.size).toBeGreaterThan(1);
    for (const [size, checkpoint] of checkpoints) {
      const note = parseSignedNote(checkpoint);
      expect(verify('sha256', Buffer.from(note.text), logKey, note.signatures[0].signature)).toBe(true);
      const cp = parseCheckpoint(note.text);
      expect(cp.size).toBe(size);
      const proof = (await (
        await fetch(`${second.url}/api/v1/log/proof?firstSize=${size}&lastSize=${info.treeSize}`)
      ).json()) as {
        hashes: string[];
        rootHash: string;
      };
      expect(proof.rootHash).toBe(info.rootHash);
      const ok = verifyConsistency(
        size,
        info.treeSize,
        Buffer.from(cp.rootHash),
        Buffer.from(info.rootHash, 'hex'),
        proof.hashes.map((h) => Buffer.from(h, 'hex')),
      );
      expect(ok, `consistency from ${size} to ${info.treeSize}`).toBe(true);
    }

    // The restarted log keeps appending after the recovered entries.
    const key = await import('./helpers.js');
    const res = await fetch(`${second.url}/api/v1/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(key.hashedRekord(Buffer.from('after crash'), key.newKey())),
    });
    expect(res.status).toBe(201);
    const created = Object.values((await res.json()) as Record<string, { logIndex: number }>)[0];
    expect(created.logIndex).toBe(info.treeSize);
    second.child.kill('SIGTERM');
  });
});
