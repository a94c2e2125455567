// `sigil monitor --ct` against a real `sigil up`: the CA's CT log is followed like the Rekor logs. A baseline pass
// finds nothing; a certificate issued for the watched identity straight from the CA (a rogue issuance: nothing
// signed, nothing in Rekor) is reported from its precertificate entry (exit 1, JSON line); another identity is
// not; a restart resumes from its state; and a tampered CT log (a proxy that rewrites one leaf_input, or the root
// of the signed tree head) raises an alarm (exit 2) and leaves the state as it was.
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getIdentityToken, requestSigningCertificate } from '../../src/sign/index.js';
import { IDENTITY, type PeerStack, startPeerStack } from '../peers/peers.js';
import { type Tamper, tamperingProxy } from '../web/tamper.js';

describe('sigil monitor --ct against sigil up', () => {
  let s: PeerStack;
  let forged: Tamper;
  let rootFlipped: Tamper;

  beforeAll(async () => {
    s = await startPeerStack();
    // Tampered views of the CT log: one byte of every leaf_input changed (the entries no longer give the root),
    // or the tree head's root changed (its signature no longer verifies).
    forged = await tamperingProxy(s.url, (path, body) => {
      if (!path.startsWith('/ct/v1/get-entries')) return undefined;
      const j = JSON.parse(body.toString('utf8'));
      for (const e of j.entries ?? []) {
        const leaf = Buffer.from(e.leaf_input, 'base64');
        leaf[leaf.length - 40] ^= 1;
        e.leaf_input = leaf.toString('base64');
      }
      return Buffer.from(JSON.stringify(j));
    });
    rootFlipped = await tamperingProxy(s.url, (path, body) => {
      if (path !== '/ct/v1/get-sth') return undefined;
      const j = JSON.parse(body.toString('utf8'));
      const root = Buffer.from(j.sha256_root_hash, 'base64');
      root[0] ^= 1;
      j.sha256_root_hash = root.toString('base64');
      return Buffer.from(JSON.stringify(j));
    });
  });
  afterAll(async () => {
    await forged?.close();
    await rootFlipped?.close();
    await s?.stop();
  });

  const monitor = (state: string, ...args: string[]) =>
    s.sigil([
      'monitor',
      '--identity',
      IDENTITY,
      '--ct',
      '--state',
      join(s.work, state),
      '--once',
      '--json',
      ...args,
    ]);
  const sthSize = async () =>
    ((await (await fetch(`${s.url}/ct/v1/get-sth`)).json()) as { tree_size: number }).tree_size;

  it('reports a certificate issued for the watched identity, though nothing was signed', async () => {
    const baseline = await monitor('ct.json');
    expect(baseline.code, baseline.output).toBe(0);
    const before = await sthSize();

    // The rogue issuance: a token for the identity and a key, straight to the CA.
    const token = await getIdentityToken({ env: s.env });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { chain } = await requestSigningCertificate(s.url, token, privateKey);
    expect(chain.length).toBeGreaterThan(0);
    // The SCT promises inclusion within the merge delay: wait for the tree head to take the entry in.
    for (let i = 0; i < 100 && (await sthSize()) <= before; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await sthSize()).toBe(before + 1);
    // Nothing reached Rekor.
    const rekor = (await (await fetch(`${s.url}/api/v1/log`)).json()) as { treeSize: number };
    expect(rekor.treeSize).toBe(0);

    const found = await monitor('ct.json', '--issuer', s.url);
    expect(found.code, found.output).toBe(1);
    const events = found.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.find((e) => e.event === 'match')).toMatchObject({
      event: 'match',
      index: before,
      identity: IDENTITY,
      issuer: s.url,
    });
    expect(events.find((e) => e.event === 'checkpoint')).toMatchObject({ from: before, to: before + 1 });
    expect(events[0].log).toMatch(/^CT log [0-9a-f]{64}$/);

    // Another identity is not reported, from scratch.
    const other = await s.sigil([
      'monitor',
      '--identity',
      'someone@example.com',
      '--ct',
      '--state',
      join(s.work, 'ct-other.json'),
      '--once',
    ]);
    expect(other.code, other.output).toBe(0);
    expect(other.stdout).toContain('get-entries pages');

    // A restart: nothing new.
    const again = await monitor('ct.json');
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toContain('"from":');
    expect(JSON.parse(await readFile(join(s.work, 'ct.json'), 'utf8')).size).toBe(before + 1);
  });

  it('alarms on entries that do not give the signed root, and on a tree head the key did not sign', async () => {
    // A certificate for another identity, so that the log grows past the states saved above.
    const token = await getIdentityToken({ env: s.env });
    await requestSigningCertificate(
      s.url,
      token,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    );
    const size = await sthSize();
    for (let i = 0; i < 100 && (await sthSize()) === size; i++) await new Promise((r) => setTimeout(r, 100));

    // The verified state, as if it had been kept while following the log through the proxy.
    const state = JSON.parse(await readFile(join(s.work, 'ct.json'), 'utf8'));
    const saved = `${JSON.stringify({ ...state, logUrl: forged.url }, null, 2)}\n`;
    await writeFile(join(s.work, 'ct-forged.json'), saved);
    const bad = await monitor('ct-forged.json', '--ct-url', forged.url);
    expect(bad.code, bad.output).toBe(2);
    expect(JSON.parse(bad.stderr.trim())).toMatchObject({ event: 'alarm' });
    expect(bad.stderr).toContain('not consistent');
    expect(await readFile(join(s.work, 'ct-forged.json'), 'utf8')).toBe(saved);

    const unsigned = await monitor('ct-fresh.json', '--ct-url', rootFlipped.url);
    expect(unsigned.code, unsigned.output).toBe(2);
    expect(unsigned.stderr).toContain('does not verify');

    // The honest log from the same state verifies.
    const honest = await monitor('ct.json');
    expect(honest.code, honest.output).toBe(1);
  });
});
