// `sigil monitor` (src/monitor/) against a real `sigil up` and against a forked log: a baseline pass finds nothing;
// after a keyless signing as the watched identity the next pass reports that entry (text, JSON line, exit 1, a
// webhook POST); a restart resumes from the state file without fetching one entry bundle again; the v2 log's Ed25519
// checkpoint verifies through the trusted root; and a test log that serves two inconsistent checkpoints under the
// same key — a longer tree that does not extend the first, or another root for the same size — raises an alarm
// (exit 2) and keeps the state it had.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY, type PeerStack, startPeerStack } from '../peers/peers.js';
import { type Tamper, tamperingProxy } from '../web/tamper.js';
import { view } from './tiles-log.js';

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  if (typeof a !== 'object' || !a) throw new Error('no address');
  return `http://127.0.0.1:${a.port}`;
};

describe('sigil monitor against sigil up', () => {
  let s: PeerStack;
  let state: string;
  let counter: Tamper;
  let bundleRequests = 0;
  const hooks: unknown[] = [];
  let hook: Server;
  let hookUrl: string;

  beforeAll(async () => {
    s = await startPeerStack();
    state = join(s.work, 'monitor-state.json');
    // Counts the entry bundles the monitor asks for, passing everything through.
    counter = await tamperingProxy(s.url, (path) => {
      if (path.startsWith('/tlog/tile/entries/')) bundleRequests++;
      return undefined;
    });
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        hooks.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    hookUrl = await listen(hook);
  });
  afterAll(async () => {
    await counter?.close();
    hook?.close();
    await s?.stop();
  });

  const monitor = (...args: string[]) =>
    s.sigil([
      'monitor',
      '--identity',
      IDENTITY,
      '--issuer',
      s.url,
      '--log-url',
      `${counter.url}/tlog`,
      '--state',
      state,
      '--once',
      ...args,
    ]);

  it('reports a signing as the watched identity, and resumes from its state without rescanning', async () => {
    // The baseline: an empty log, nothing to report.
    const artifact = join(s.work, 'artifact.txt');
    const baseline = await monitor();
    expect(baseline.code, baseline.output).toBe(0);
    expect(baseline.stdout).toMatch(/verified checkpoint 0 → 0|no new entries/);

    const signed = await s.sigil(['sign-blob', '--yes', '--bundle', join(s.work, 'b.json'), artifact]);
    expect(signed.code, signed.output).toBe(0);
    const found = await monitor('--json', '--webhook', hookUrl);
    expect(found.code, found.output).toBe(1);
    const events = found.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const match = events.find((e) => e.event === 'match');
    expect(match).toMatchObject({ event: 'match', index: 0, identity: IDENTITY, issuer: s.url });
    expect(events.find((e) => e.event === 'checkpoint')).toMatchObject({ from: 0, to: 1, scanned: 1 });
    expect(hooks).toEqual([match]);
    // The match is the entry the log holds: its UUID is the leaf hash.
    const entry = await fetch(`${s.url}/api/v1/log/entries/${match.leafHash}`);
    expect(entry.status).toBe(200);

    // Another identity is not reported.
    const other = await s.sigil([
      'monitor',
      '--identity',
      'someone@example.com',
      '--log-url',
      `${s.url}/tlog`,
      '--state',
      join(s.work, 'other-state.json'),
      '--once',
    ]);
    expect(other.code, other.output).toBe(0);

    // A restart: nothing new, no entry bundle fetched.
    bundleRequests = 0;
    const again = await monitor();
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toContain('no new entries (size 1)');
    expect(bundleRequests).toBe(0);
    const saved = JSON.parse(await readFile(state, 'utf8'));
    expect(saved.size).toBe(1);
  });

  it('follows the Rekor v2 log, its Ed25519 checkpoint checked against the trusted root', async () => {
    const r = await s.sigil([
      'monitor',
      '--identity',
      IDENTITY,
      '--rekor-v2',
      '--state',
      join(s.work, 'v2-state.json'),
      '--once',
    ]);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/verified checkpoint|no new entries/);
  });
});

describe('sigil monitor against a forked log', () => {
  let server: Server;
  let url: string;
  let work: string;
  let current: ReturnType<typeof view>;
  let s: PeerStack;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const entries = (tag: string, n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`${tag} ${i}`));

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'sigil-monitor-fork-'));
    await writeFile(join(work, 'log.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    server = createServer((req, res) => {
      const body =
        req.url === '/checkpoint' ? Buffer.from(current.checkpoint) : current.bundles.get(req.url ?? '');
      if (!body) res.writeHead(404).end();
      else res.writeHead(200).end(body);
    });
    url = await listen(server);
    // Only for its CLI runner: the monitor talks to the test log alone.
    s = await startPeerStack();
  });
  afterAll(async () => {
    server?.close();
    await s?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const monitor = (statePath: string) =>
    s.sigil([
      'monitor',
      '--identity',
      'anyone@example.com',
      '--log-url',
      url,
      '--log-key',
      join(work, 'log.pub'),
      '--state',
      statePath,
      '--once',
      '--json',
    ]);

  it('alarms when a longer checkpoint does not extend the one it verified, and keeps its state', async () => {
    const statePath = join(work, 'a.json');
    current = view(entries('a', 300), privateKey, spki);
    const first = await monitor(statePath);
    expect(first.code, first.output).toBe(0);
    expect(JSON.parse(first.stdout.trim())).toMatchObject({
      event: 'checkpoint',
      from: 0,
      to: 300,
      scanned: 300,
      bundles: 2,
    });
    const saved = await readFile(statePath, 'utf8');

    // Same key, same origin, 520 entries whose first 300 differ at one entry: a split view.
    const forked = entries('a', 520);
    forked[7] = Buffer.from('rewritten history');
    current = view(forked, privateKey, spki);
    const second = await monitor(statePath);
    expect(second.code, second.output).toBe(2);
    expect(JSON.parse(second.stderr.trim())).toMatchObject({ event: 'alarm' });
    expect(second.stderr).toContain('not consistent');
    expect(await readFile(statePath, 'utf8')).toBe(saved);

    // The honest extension verifies from the same state.
    current = view(entries('a', 520), privateKey, spki);
    const third = await monitor(statePath);
    expect(third.code, third.output).toBe(0);
    expect(JSON.parse(third.stdout.trim())).toMatchObject({ from: 300, to: 520, scanned: 220, bundles: 2 });
  });

  it('alarms on two roots for one size, and on a checkpoint the key did not sign', async () => {
    const statePath = join(work, 'b.json');
    current = view(entries('b', 10), privateKey, spki);
    expect((await monitor(statePath)).code).toBe(0);
    current = view(entries('c', 10), privateKey, spki);
    const fork = await monitor(statePath);
    expect(fork.code, fork.output).toBe(2);
    expect(fork.stderr).toContain('two different roots');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    current = view(entries('b', 12), other, spki);
    const forged = await monitor(statePath);
    expect(forged.code, forged.output).toBe(2);
  });
});
