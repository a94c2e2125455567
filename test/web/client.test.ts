// The explorer's browser-side checks (src/web/client/), run under Node's WebCrypto: the Merkle proof checks agree
// with RFC 6962's definitions on every (index, size) and (first, second) up to 40 leaves and reject a changed
// hash; the X.509 reader names a public-good Fulcio leaf's SANs, issuer and extensions as node:crypto reads them; a
// checkpoint and SET signed here verify, and do not once a byte changes.
import { createHash, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkConsistency,
  checkInclusion,
  checkProofCheckpoint,
  checkSet,
  importLogKey,
} from '../../src/web/client/checks.js';
import { decodeCertificate } from '../../src/web/client/x509.js';

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (d: Buffer) => sha(Buffer.of(0), d);
const nodeHash = (l: Buffer, r: Buffer) => sha(Buffer.of(1), l, r);
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

/** RFC 6962 §2.1: MTH, PATH and PROOF straight from their definitions. */
function mth(d: Buffer[]): Buffer {
  if (d.length === 1) return leafHash(d[0]);
  const k = split(d.length);
  return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}
function path(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const k = split(d.length);
  return m < k
    ? [...path(m, d.slice(0, k)), mth(d.slice(k))]
    : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
function subproof(m: number, d: Buffer[], whole: boolean): Buffer[] {
  if (m === d.length) return whole ? [] : [mth(d)];
  const k = split(d.length);
  return m <= k
    ? [...subproof(m, d.slice(0, k), whole), mth(d.slice(k))]
    : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}

const leaves = Array.from({ length: 40 }, (_, i) => Buffer.from(`leaf ${i}`));
const hex = (b: Buffer) => b.toString('hex');

describe('the explorer’s Merkle checks', () => {
  it('recompute the root of every inclusion proof, and refuse a changed hash', async () => {
    for (let n = 1; n <= 24; n++) {
      const d = leaves.slice(0, n);
      const root = hex(mth(d));
      for (let m = 0; m < n; m++) {
        const hashes = path(m, d).map(hex);
        const proof = { logIndex: m, treeSize: n, rootHash: root, hashes };
        expect((await checkInclusion(d[m], proof)).ok, `${m}/${n}`).toBe(true);
        if (hashes.length) {
          const bad = [...hashes];
          bad[0] = `${bad[0].slice(0, 63)}${bad[0].endsWith('0') ? '1' : '0'}`;
          expect((await checkInclusion(d[m], { ...proof, hashes: bad })).ok).toBe(false);
        }
        expect((await checkInclusion(d[(m + 1) % n], proof)).ok).toBe(n === 1);
      }
    }
  });

  it('check consistency proofs, and refuse a forked tree', async () => {
    for (let second = 1; second <= 20; second++)
      for (let first = 1; first <= second; first++) {
        const d = leaves.slice(0, second);
        const older = { size: first, root: mth(d.slice(0, first)) };
        const newer = { size: second, root: mth(d) };
        const hashes = subproof(first, d, true).map(hex);
        expect((await checkConsistency(older, newer, hashes)).ok, `${first}→${second}`).toBe(true);
        const forked = [...d.slice(0, first - 1), Buffer.from('other'), ...d.slice(first)];
        const fork = { size: second, root: mth(forked) };
        expect((await checkConsistency(older, fork, hashes)).ok).toBe(false);
      }
  });
});

describe('the explorer’s certificate reader', () => {
  const bundle = JSON.parse(
    readFileSync(
      join(import.meta.dirname, '../fixtures/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json'),
      'utf8',
    ),
  );
  const der = Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64');

  it('reads a Fulcio leaf’s names, validity, issuer and extensions', () => {
    const x = new X509Certificate(der);
    const c = decodeCertificate(der);
    expect(c.notBefore.getTime()).toBe(new Date(x.validFrom).getTime());
    expect(c.notAfter.getTime()).toBe(new Date(x.validTo).getTime());
    expect(c.subjectAltNames.map((s) => `${s.type === 'uri' ? 'URI' : s.type}:${s.value}`).join(', ')).toBe(
      x.subjectAltName,
    );
    expect(c.oidcIssuer).toBe('https://token.actions.githubusercontent.com');
    expect(c.extensions.find((e) => e.oid === '1.3.6.1.4.1.57264.1.9')?.name).toBe('Build Signer URI');
    expect(c.scts.length).toBeGreaterThan(0);
  });
});

describe('the explorer’s signature checks', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const d = leaves.slice(0, 5);
  const root = mth(d);
  const text = `example.org - 1\n5\n${root.toString('base64')}\n`;
  const noteSig = Buffer.concat([sha(spki).subarray(0, 4), sign('sha256', Buffer.from(text), privateKey)]);
  const checkpoint = `${text}\n\u2014 example.org ${noteSig.toString('base64')}\n`;
  const proof = { logIndex: 2, treeSize: 5, rootHash: hex(root), hashes: path(2, d).map(hex), checkpoint };

  it('verify a checkpoint signed with the log’s ECDSA key, and not one for another root', async () => {
    const key = await importLogKey(spki);
    expect((await checkProofCheckpoint(proof, key)).ok).toBe(true);
    const other = hex(mth(leaves.slice(0, 6)));
    expect((await checkProofCheckpoint({ ...proof, rootHash: other }, key)).ok).toBe(false);
    const forged = checkpoint.replace('\n5\n', '\n6\n');
    expect((await checkProofCheckpoint({ ...proof, treeSize: 6, checkpoint: forged }, key)).ok).toBe(false);
  });

  it('verify a SET over the canonical entry fields, and not once a field changes', async () => {
    const key = await importLogKey(spki);
    const entry = { body: 'Ym9keQ==', integratedTime: 1700000000, logID: 'ab'.repeat(32), logIndex: 7 };
    const set = sign('sha256', Buffer.from(JSON.stringify(entry)), privateKey).toString('base64');
    expect((await checkSet(entry, set, key)).ok).toBe(true);
    expect((await checkSet({ ...entry, logIndex: 8 }, set, key)).ok).toBe(false);
  });
});
