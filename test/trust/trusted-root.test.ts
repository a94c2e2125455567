// trusted_root.json built by sigil is read back by sigstore-js' own trust-material loader.
import { createPublicKey } from 'node:crypto';
import { toTrustMaterial } from '@sigstore/verify';
import { describe, expect, it } from 'vitest';
import { generateKey, keyId } from '../../src/crypto/index.js';
import {
  buildSigningConfig,
  buildTrustedRoot,
  parseSigningConfig,
  parseTrustedRoot,
} from '../../src/trust/index.js';

describe('trusted_root.json', () => {
  it('round-trips through protobuf-specs and is accepted by sigstore-js', () => {
    const rekorKey = createPublicKey(generateKey('ecdsa-p256'));
    const ctKey = createPublicKey(generateKey('ed25519'));
    const json = buildTrustedRoot({
      certificateAuthorities: [],
      tlogs: [{ baseUrl: 'http://127.0.0.1:1', publicKey: rekorKey, validFrom: new Date(0) }],
      ctlogs: [{ baseUrl: 'http://127.0.0.1:1/ct', publicKey: ctKey, validFrom: new Date(0) }],
    });
    const parsed = parseTrustedRoot(JSON.parse(JSON.stringify(json)));
    expect(parsed.tlogs[0].logId?.keyId).toEqual(keyId(rekorKey));
    const material = toTrustMaterial(parsed);
    expect(material.tlogs[0].logID).toEqual(keyId(rekorKey));
    expect(material.ctlogs[0].logID).toEqual(keyId(ctKey));
    expect(() => parseTrustedRoot({ mediaType: 'text/plain' })).toThrow(/mediaType/);
  });

  it('signing_config.json names the CA and log URLs', () => {
    const json = buildSigningConfig({ caUrl: 'http://ca', rekorUrl: 'http://rekor', validFrom: new Date(0) });
    const parsed = parseSigningConfig(JSON.parse(JSON.stringify(json)));
    expect(parsed.caUrls[0].url).toBe('http://ca');
    expect(parsed.rekorTlogUrls[0].url).toBe('http://rekor');
  });
});
