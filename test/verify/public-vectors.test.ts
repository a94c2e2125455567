// Bundles signed by the real Sigstore instances (sigstore-conformance test vectors, see test/fixtures/README.md):
// every happy case verifies offline; every `_fail` case fails with the error that names its defect; and
// tampered copies of a public-good bundle each fail with their own code.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadTrustMaterial,
  type TrustMaterial,
  VerificationError,
  type VerificationPolicy,
  verifyBundle,
} from '../../src/verify/index.js';

const FIXTURES = join(import.meta.dirname, '../fixtures');
const CASES = join(FIXTURES, 'conformance/bundle-verify');
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';
const publicGood = loadTrustMaterial(readFileSync(join(FIXTURES, 'public-good-trusted_root.json'), 'utf8'));

/** The error each failing vector must produce: its README names the defect. */
const EXPECTED: Record<string, string> = {
  'bundle-empty-certificate-chain_fail': 'BUNDLE_INVALID',
  'bundle-from-wrong-instance_fail': 'CHAIN_UNTRUSTED',
  'bundle-invalid-base64-signature_fail': 'BUNDLE_INVALID',
  'bundle-malformed-json_fail': 'BUNDLE_INVALID',
  'bundle-negative-log-index_fail': 'BUNDLE_INVALID',
  'bundle-unknown-version_fail': 'BUNDLE_INVALID',
  'bundle-with-root-cert_fail': 'BUNDLE_INVALID',
  'checkpoint-bad-keyhint_fail': 'CHECKPOINT_INVALID',
  'checkpoint-wrong-roothash_fail': 'CHECKPOINT_MISMATCH',
  'dsse-invalid-sig_fail': 'SIGNATURE_INVALID',
  'dsse-mismatch-envelope_fail': 'TLOG_BODY_MISMATCH',
  'dsse-mismatch-sig_fail': 'TLOG_BODY_MISMATCH',
  'inclusion-proof-corrupted-hash_fail': 'INCLUSION_PROOF_INVALID',
  'incorrect-public-key_fail': 'SET_INVALID',
  'integrated-time-in-future_fail': 'CERT_EXPIRED_AT_SIGNING_TIME',
  'intoto-expired-certificate_fail': 'CERT_EXPIRED_AT_SIGNING_TIME',
  'intoto-log-entry-mismatch_fail': 'TLOG_BODY_MISMATCH',
  'intoto-missing-inclusion-proof_fail': 'BUNDLE_INVALID',
  'intoto-set-outside-signing-cert-validity_fail': 'CERT_EXPIRED_AT_SIGNING_TIME',
  'intoto-tsa-timestamp-outside-cert-validity_fail': 'CERT_EXPIRED_AT_SIGNING_TIME',
  'invalid-checkpoint-signature_fail': 'CHECKPOINT_INVALID',
  'invalid-ct-key_fail': 'SCT_INVALID',
  'invalid-inclusion-proof_fail': 'BUNDLE_INVALID',
  'managed-key-no-key_fail': 'KEY_MISMATCH',
  'managed-key-wrong-key_fail': 'POLICY_INVALID',
  'message-digest-mismatch_fail': 'DIGEST_MISMATCH',
  'rekor2-checkpoint-missing-log-signature_fail': 'CHECKPOINT_INVALID',
  'rekor2-checkpoint-missing-origin_fail': 'CHECKPOINT_INVALID',
  'rekor2-checkpoint-missing-root-hash_fail': 'CHECKPOINT_INVALID',
  'rekor2-checkpoint-missing-size_fail': 'CHECKPOINT_INVALID',
  'rekor2-checkpoint-no-matching-signature_fail': 'CHECKPOINT_INVALID',
  'rekor2-dsse-invalid-sig_fail': 'SIGNATURE_INVALID',
  'rekor2-dsse-mismatch-envelope_fail': 'TLOG_BODY_MISMATCH',
  'rekor2-dsse-mismatch-sig_fail': 'TLOG_BODY_MISMATCH',
  'rekor2-no-inclusion-proof_fail': 'BUNDLE_INVALID',
  'rekor2-no-timestamp_fail': 'TIMESTAMP_MISSING',
  'rekor2-timestamp-outside-trust-root-tsa-validity_fail': 'TIMESTAMP_INVALID',
  'rekor2-timestamp-outside-tsa-cert-validity_fail': 'TIMESTAMP_INVALID',
  'rekor2-timestamp-payload-mismatch_fail': 'TIMESTAMP_INVALID',
  'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': 'TIMESTAMP_INVALID',
  'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': 'TIMESTAMP_INVALID',
  'rekor2-timestamp-with-incorrect-time_fail': 'CERT_EXPIRED_AT_SIGNING_TIME',
  'set-invalid-signature_fail': 'SET_INVALID',
  'signature-mismatch_fail': 'SIGNATURE_INVALID',
  'trust-root-tlog-missing-validity-start_fail': 'TLOG_UNTRUSTED',
  'wrong-hashedrekord-artifact_fail': 'TLOG_BODY_MISMATCH',
  'wrong-hashedrekord-cert-and-sig_fail': 'TLOG_BODY_MISMATCH',
  'wrong-hashedrekord-entry_fail': 'TLOG_BODY_MISMATCH',
  'wrong-material_fail': 'DIGEST_MISMATCH',
};

interface Case {
  trust: () => TrustMaterial;
  bundle: string;
  artifact: Buffer;
  policy: VerificationPolicy;
}

function loadCase(name: string): Case {
  const dir = join(CASES, name);
  const file = (f: string) => join(dir, f);
  const text = (f: string, fallback: string) =>
    existsSync(file(f)) ? readFileSync(file(f), 'utf8').trim() : fallback;
  return {
    trust: () =>
      existsSync(file('trusted_root.json'))
        ? loadTrustMaterial(readFileSync(file('trusted_root.json')))
        : publicGood,
    bundle: readFileSync(file('bundle.sigstore.json'), 'utf8'),
    artifact: readFileSync(existsSync(file('artifact')) ? file('artifact') : join(CASES, 'a.txt')),
    policy: existsSync(file('key.pub'))
      ? { publicKey: readFileSync(file('key.pub'), 'utf8') }
      : {
          identity: {
            subjectAlternativeName: text('identity', DEFAULT_IDENTITY),
            issuer: text('issuer', DEFAULT_ISSUER),
          },
        },
  };
}

function outcome(c: Case, overrides: Partial<Case> = {}): string {
  const x = { ...c, ...overrides };
  try {
    verifyBundle(x.bundle, x.artifact, x.policy, x.trust());
    return 'passed';
  } catch (err) {
    if (err instanceof VerificationError) return err.code;
    throw err;
  }
}

const names = readdirSync(CASES).filter((d) => existsSync(join(CASES, d, 'bundle.sigstore.json')));

describe('sigstore-conformance bundle-verify vectors', () => {
  it('covers every vector', () => {
    expect(names.length).toBeGreaterThanOrEqual(70);
    for (const n of names.filter((x) => x.endsWith('_fail'))) expect(EXPECTED[n], n).toBeDefined();
  });
  it.each(names)('%s', (name) => {
    expect(outcome(loadCase(name))).toBe(name.endsWith('_fail') ? EXPECTED[name] : 'passed');
  });
});

describe('tampered public-good bundle (happy-path-v0.3)', () => {
  const base = loadCase('happy-path-v0.3');
  const json = () => JSON.parse(base.bundle);
  // biome-ignore lint/suspicious/noExplicitAny: bundle JSON edited freely by the test
  const entry = (b: any) => b.verificationMaterial.tlogEntries[0];
  const flip = (b64: string, at: number) => {
    const buf = Buffer.from(b64, 'base64');
    buf[at < 0 ? buf.length + at : at] ^= 0x01;
    return buf.toString('base64');
  };
  // biome-ignore lint/suspicious/noExplicitAny: bundle JSON edited freely by the test
  const tamper = (edit: (b: any) => void) => {
    const b = json();
    edit(b);
    return JSON.stringify(b);
  };

  it('verifies untouched', () => expect(outcome(base)).toBe('passed'));
  it('signature byte flipped → SIGNATURE_INVALID', () => {
    const bundle = tamper((b) => {
      b.messageSignature.signature = flip(b.messageSignature.signature, 10);
    });
    expect(outcome(base, { bundle })).toBe('SIGNATURE_INVALID');
  });
  it('artifact byte flipped → DIGEST_MISMATCH', () => {
    const artifact = Buffer.from(base.artifact);
    artifact[0] ^= 1;
    expect(outcome(base, { artifact })).toBe('DIGEST_MISMATCH');
  });
  it('SET byte flipped → SET_INVALID', () => {
    const bundle = tamper((b) => {
      entry(b).inclusionPromise.signedEntryTimestamp = flip(
        entry(b).inclusionPromise.signedEntryTimestamp,
        12,
      );
    });
    expect(outcome(base, { bundle })).toBe('SET_INVALID');
  });
  it('inclusion proof hash flipped → INCLUSION_PROOF_INVALID', () => {
    const bundle = tamper((b) => {
      entry(b).inclusionProof.hashes[2] = flip(entry(b).inclusionProof.hashes[2], 0);
    });
    expect(outcome(base, { bundle })).toBe('INCLUSION_PROOF_INVALID');
  });
  it('checkpoint signature flipped → CHECKPOINT_INVALID', () => {
    const bundle = tamper((b) => {
      const env: string = entry(b).inclusionProof.checkpoint.envelope;
      const [text, sigs] = env.split('\n\n');
      const parts = sigs.trimEnd().split(' ');
      parts[2] = flip(parts[2], -3);
      entry(b).inclusionProof.checkpoint.envelope = `${text}\n\n${parts.join(' ')}\n`;
    });
    expect(outcome(base, { bundle })).toBe('CHECKPOINT_INVALID');
  });
  it('certificate signature byte flipped → CHAIN_UNTRUSTED', () => {
    const bundle = tamper((b) => {
      b.verificationMaterial.certificate.rawBytes = flip(b.verificationMaterial.certificate.rawBytes, -5);
    });
    expect(outcome(base, { bundle })).toBe('CHAIN_UNTRUSTED');
  });
  it('log entry body flipped → SET_INVALID', () => {
    const bundle = tamper((b) => {
      entry(b).canonicalizedBody = flip(entry(b).canonicalizedBody, 40);
    });
    expect(outcome(base, { bundle })).toBe('SET_INVALID');
  });
  it('identity and issuer policy → IDENTITY_MISMATCH / ISSUER_MISMATCH', () => {
    expect(
      outcome(base, {
        policy: { identity: { subjectAlternativeName: 'https://github.com/evil', issuer: DEFAULT_ISSUER } },
      }),
    ).toBe('IDENTITY_MISMATCH');
    expect(
      outcome(base, {
        policy: {
          identity: { subjectAlternativeName: DEFAULT_IDENTITY, issuer: 'https://accounts.google.com' },
        },
      }),
    ).toBe('ISSUER_MISMATCH');
    expect(
      outcome(base, {
        policy: {
          identity: {
            subjectAlternativeNameRegExp: '^https://github\\.com/sigstore-conformance/',
            issuerRegExp: 'githubusercontent',
          },
        },
      }),
    ).toBe('passed');
  });
  it('reports the signer and a signing time from the log', () => {
    const r = verifyBundle(base.bundle, base.artifact, base.policy, publicGood);
    expect(r.signer.identity?.subjectAlternativeNames).toEqual([DEFAULT_IDENTITY]);
    expect(r.signer.identity?.issuer).toBe(DEFAULT_ISSUER);
    expect(r.tlogEntries[0].integratedTime?.getTime()).toBe(r.signingTimes[0].getTime());
  });
});
