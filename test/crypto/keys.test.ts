// Keys persist in the data dir, sign and verify, and a wrong key or message is refused.
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  keyId,
  loadOrCreatePrivateKey,
  localSigner,
  sha256,
  spkiDer,
  verifySignature,
} from '../../src/crypto/index.js';

describe('data-dir keys', () => {
  for (const kind of ['ecdsa-p256', 'ecdsa-p384', 'ed25519'] as const) {
    it(`${kind}: created once with mode 0600, reused after, signs verifiably`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sigil-keys-'));
      const path = join(dir, 'key.pem');
      const first = await loadOrCreatePrivateKey(path, kind);
      const again = await loadOrCreatePrivateKey(path, kind);
      expect(spkiDer(first).equals(spkiDer(again))).toBe(true);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(await readFile(path, 'utf8')).toContain('BEGIN PRIVATE KEY');
      const signer = localSigner(first);
      const msg = Buffer.from('hello');
      const sig = await signer.sign(msg);
      expect(verifySignature(signer.publicKey, msg, sig)).toBe(true);
      expect(verifySignature(signer.publicKey, Buffer.from('hellO'), sig)).toBe(false);
      const other = localSigner(await loadOrCreatePrivateKey(join(dir, 'other.pem'), kind));
      expect(verifySignature(other.publicKey, msg, sig)).toBe(false);
      expect(verifySignature(signer.publicKey, msg, Buffer.from('garbage'))).toBe(false);
      expect(keyId(first)).toEqual(sha256(spkiDer(first)));
    });
  }
});
