// The small parts under the verifier: DER certificate reading, precertificate reconstruction, fast key import,
// RFC 6962 inclusion proofs, ECDSA over a digest, and checkpoint parsing — each against an independent source
// (node:crypto, the test instance's own tree builder) and with malformed input.
import { createHash, createPublicKey, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCertificate, precertificateTbs, spkiPublicKey } from '../../src/formats/index.js';
import {
  leafHash,
  rootFromInclusionProofOrReason as rootFromInclusionProof,
} from '../../src/merkle/index.js';
import { parseCheckpoint } from '../../src/verify/checkpoint.js';
import { verifyEcdsaPrehashed } from '../../src/verify/ecdsa-prehash.js';
import { auditPath, IDENTITY, makeLeaf, makePki, merkleRoot, tbsCertificate } from './helpers/pki.js';

describe('x509', () => {
  const pki = makePki();
  const leaf = makeLeaf(pki);
  const cert = parseCertificate(leaf.der);

  it('reads what node:crypto reads', () => {
    const x = new X509Certificate(leaf.der);
    expect(cert.notBefore.getTime()).toBe(new Date(x.validFrom).getTime());
    expect(cert.notAfter.getTime()).toBe(new Date(x.validTo).getTime());
    expect(cert.serialNumber.toString('hex').toUpperCase()).toBe(
      x.serialNumber.replace(/^0+/, '').padStart(2, '0'),
    );
    expect(cert.subjectAltNames).toEqual([{ type: 'uri', value: IDENTITY }]);
    expect(x.verify(pki.intermediate.publicKey)).toBe(true);
    expect(cert.isCA).toBe(false);
  });

  // (That the rebuilt TBS is byte-exact is shown by SCT verification succeeding in rules.test.ts.)
  it('rebuilds the precertificate TBS by dropping the SCT extension', () => {
    const tbs = precertificateTbs(cert);
    expect(tbs.length).toBeLessThan(cert.tbs.length);
    expect(
      tbs.includes(Buffer.from([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02])),
    ).toBe(false);
    expect(
      cert.tbs.includes(
        Buffer.from([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02]),
      ),
    ).toBe(true);
  });

  it('rejects malformed DER with a reason', () => {
    expect(() => parseCertificate(leaf.der.subarray(0, 100))).toThrow(/DER/);
    expect(() => parseCertificate(Buffer.concat([leaf.der, Buffer.from([0])]))).toThrow(/trailing/);
    const tbs = tbsCertificate({
      serial: 1,
      issuer: 'a',
      subject: 'b',
      notBefore: new Date(0),
      notAfter: new Date(1e12),
      publicKey: leaf.publicKey,
      extensions: [],
    });
    expect(() => parseCertificate(tbs)).toThrow(/DER/);
  });

  it.each(['P-256', 'P-384', 'P-521'])(
    'imports %s keys like the DER decoder, and refuses points off the curve',
    (curve) => {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const spki = publicKey.export({ type: 'spki', format: 'der' });
      expect(spkiPublicKey(spki).equals(createPublicKey({ key: spki, format: 'der', type: 'spki' }))).toBe(
        true,
      );
      const bad = Buffer.from(spki);
      bad[bad.length - 1] ^= 1;
      expect(() => spkiPublicKey(bad)).toThrow();
    },
  );
});

describe('RFC 6962 inclusion proofs', () => {
  it('accepts every (index, size) up to 33 and rejects altered proofs', () => {
    for (let size = 1; size <= 33; size++) {
      const leaves = Array.from({ length: size }, (_, i) => Buffer.from(`leaf ${i}`));
      const root = merkleRoot(leaves);
      for (let i = 0; i < size; i++) {
        const path = auditPath(i, leaves);
        expect(rootFromInclusionProof(i, size, leafHash(leaves[i]), path)).toEqual(root);
        if (path.length > 0) {
          expect(rootFromInclusionProof(i, size, leafHash(leaves[i]), path.slice(1))).not.toEqual(root);
          expect(rootFromInclusionProof(i, size, leafHash(leaves[i]), [...path, root])).toBeTypeOf('string');
        }
        if (size > 1)
          expect(rootFromInclusionProof((i + 1) % size, size, leafHash(leaves[i]), path)).not.toEqual(root);
      }
    }
    expect(rootFromInclusionProof(5, 5, leafHash(Buffer.from('x')), [])).toMatch(/outside/);
  });
});

describe('ECDSA over a digest', () => {
  it.each([
    ['P-256', 'sha256'],
    ['P-384', 'sha384'],
    ['P-384', 'sha256'],
  ])('%s with %s agrees with node:crypto', (curve, hash) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    const msg = Buffer.from('artifact bytes');
    const sig = sign(hash, msg, privateKey);
    const digest = createHash(hash).update(msg).digest();
    expect(verifyEcdsaPrehashed(publicKey, digest, sig)).toBe(true);
    expect(verifyEcdsaPrehashed(publicKey, createHash(hash).update('other').digest(), sig)).toBe(false);
    const bad = Buffer.from(sig);
    bad[bad.length - 2] ^= 1;
    expect(verifyEcdsaPrehashed(publicKey, digest, bad)).toBe(false);
    expect(verifyEcdsaPrehashed(publicKey, digest, Buffer.from([0x30, 0x00]))).toBe(false);
  });
});

describe('checkpoints', () => {
  const root = createHash('sha256').update('r').digest().toString('base64');
  it('parses a signed note and says what is wrong with a broken one', () => {
    const ok = parseCheckpoint(`log - 1\n10\n${root}\n\n\u2014 log AAAAAAAA\n`);
    expect(typeof ok === 'object' && ok.treeSize).toBe(10);
    expect(parseCheckpoint(`log - 1\n10\n${root}\n`)).toMatch(/blank line/);
    expect(parseCheckpoint(`log - 1\nten\n${root}\n\n\u2014 log AAAAAAAA\n`)).toMatch(/tree size/);
    expect(parseCheckpoint(`log - 1\n10\nAAAA\n\n\u2014 log AAAAAAAA\n`)).toMatch(/root hash/);
    expect(parseCheckpoint(`log - 1\n10\n${root}\n\n- log AAAAAAAA\n`)).toMatch(/signature line/);
    expect(parseCheckpoint(`log - 1\n10\n${root}\n\n\u2014 log AAAA\n`)).toMatch(/too short/);
  });

  it('accepts extension lines and only the canonical base64 of the root hash', () => {
    const ok = parseCheckpoint(`log - 1\n10\n${root}\next\n\n\u2014 log AAAAAAAA\n`);
    expect(typeof ok === 'object' && ok.rootHash.toString('base64')).toBe(root);
    // 43 base64 digits carry 258 bits; a set padding bit decodes to the same 32 bytes but is another text.
    const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const padded = `${root.slice(0, 42)}${digits[digits.indexOf(root[42]) | 1]}=`;
    expect(Buffer.from(padded, 'base64').toString('base64')).toBe(root);
    expect(parseCheckpoint(`log - 1\n10\n${padded}\n\n\u2014 log AAAAAAAA\n`)).toMatch(/root hash/);
    expect(parseCheckpoint(`log - 1\n10\n${root}\n\next\n\n\u2014 log AAAAAAAA\n`)).toMatch(
      /empty extension line/,
    );
  });
});
