// One negative test per rule the verifier enforces, on bundles from a miniature test instance (helpers/pki.ts),
// plus the positive cases each rule must still let through. sigstore-js verifies the same happy bundles, which
// keeps the test instance honest.
import { createHash } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedRoot } from '../../src/trust/index.js';
import {
  type IdentityPolicy,
  loadTrustMaterial,
  type TrustMaterial,
  type VerificationPolicy,
  verifyBundle,
} from '../../src/verify/index.js';
import {
  ext,
  GITHUB,
  IDENTITY,
  ISSUER,
  makeBundle,
  makeLeaf,
  makePki,
  type Pki,
  p256,
  T0,
  trustedRoot,
} from './helpers/pki.js';

const artifact = Buffer.from('hello, sigil\n');
const policy: VerificationPolicy = { identity: { subjectAlternativeName: IDENTITY, issuer: ISSUER } };
const withIdentity = (p: Partial<IdentityPolicy>): VerificationPolicy => ({
  identity: { subjectAlternativeName: IDENTITY, issuer: ISSUER, ...p },
});

let pki: Pki;
let trust: TrustMaterial;
let leaf: ReturnType<typeof makeLeaf>;
// biome-ignore lint/suspicious/noExplicitAny: bundle JSON edited freely by the test
let good: Record<string, any>;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? `uncoded: ${(err as Error).message}`;
  }
  return 'passed';
}

beforeAll(() => {
  pki = makePki();
  trust = loadTrustMaterial(trustedRoot(pki));
  leaf = makeLeaf(pki);
  good = makeBundle(pki, leaf, artifact);
});

describe('happy paths', () => {
  it('verifies a v0.3 bundle and lists every check', () => {
    const r = verifyBundle(good, artifact, policy, trust);
    expect(r.checks).toEqual([
      'artifact-digest',
      'signature',
      'tlog-set',
      'tlog-inclusion-proof',
      'tlog-checkpoint',
      'tlog-body',
      'certificate-chain',
      'certificate-validity',
      'sct',
      'identity',
    ]);
    expect(r.signer.identity?.subjectAlternativeNames).toEqual([IDENTITY]);
    expect(r.signingTimes[0].toISOString()).toBe('2025-01-01T00:01:00.000Z');
  });

  it('is accepted by sigstore-js too (the test instance is sound)', () => {
    const verifier = new Verifier(toTrustMaterial(parseTrustedRoot(trustedRoot(pki))));
    const entity = toSignedEntity(bundleFromJSON(good), artifact);
    expect(() =>
      verifier.verify(entity, { subjectAlternativeName: IDENTITY, extensions: { issuer: ISSUER } }),
    ).not.toThrow();
  });

  it('verifies a v0.1 bundle, a DSSE bundle and a digest-only artifact', () => {
    expect(
      code(() => verifyBundle(makeBundle(pki, leaf, artifact, { version: '0.1' }), artifact, policy, trust)),
    ).toBe('passed');
    const digest = createHash('sha256').update(artifact).digest();
    expect(code(() => verifyBundle(good, { digest }, policy, trust))).toBe('passed');
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'a', digest: { sha256: digest.toString('hex') } }],
        predicateType: 'x',
        predicate: {},
      }),
    );
    const dsse = makeBundle(pki, leaf, artifact, {
      dsse: { payloadType: 'application/vnd.in-toto+json', payload: statement },
    });
    expect(verifyBundle(dsse, artifact, policy, trust).checks).toContain('in-toto-subject');
    expect(code(() => verifyBundle(dsse, undefined, policy, trust))).toBe('passed');
    expect(code(() => verifyBundle(dsse, Buffer.from('other'), policy, trust))).toBe('SUBJECT_MISMATCH');
  });

  it('verifies key-based bundles with the key, and nothing else', () => {
    const b = makeBundle(pki, leaf, artifact, { publicKeyOnly: true });
    const pem = leaf.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyBundle(b, artifact, { publicKey: pem }, trust).checks).toContain('public-key');
    expect(code(() => verifyBundle(b, artifact, { publicKey: p256().publicKey }, trust))).toBe(
      'SIGNATURE_INVALID',
    );
    expect(code(() => verifyBundle(b, artifact, policy, trust))).toBe('KEY_MISMATCH');
  });
});

describe('certificate rules', () => {
  it('chain: a certificate from another CA is untrusted', () => {
    const other = makePki();
    const l = makeLeaf(pki, { issuerKey: other.intermediate.key });
    expect(code(() => verifyBundle(makeBundle(pki, l, artifact), artifact, policy, trust))).toBe(
      'CHAIN_UNTRUSTED',
    );
  });

  it('chain: every issuer must be a CA allowed to sign certificates', () => {
    for (const interExtensions of [[ext.caKeyUsage()], [ext.basicConstraints(true, 0), ext.keyUsage()]]) {
      const weak = makePki(interExtensions);
      const l = makeLeaf(weak);
      expect(
        code(() =>
          verifyBundle(makeBundle(weak, l, artifact), artifact, policy, loadTrustMaterial(trustedRoot(weak))),
        ),
      ).toBe('CHAIN_UNTRUSTED');
    }
  });

  it('chain: a CA carrying name constraints, or an unknown critical extension, is not trusted', () => {
    // NameConstraints { permittedSubtrees [0] { GeneralSubtree { uniformResourceIdentifier "github.com" } } }
    const uri = Buffer.concat([Buffer.from([0x86, 10]), Buffer.from('github.com')]);
    const subtree = Buffer.concat([Buffer.from([0x30, uri.length]), uri]);
    const permitted = Buffer.concat([Buffer.from([0xa0, subtree.length]), subtree]);
    const nameConstraints = {
      oid: '2.5.29.30',
      critical: true,
      value: Buffer.concat([Buffer.from([0x30, permitted.length]), permitted]),
    };
    const unknownCritical = { oid: '1.2.3.4.5', critical: true, value: Buffer.from([0x05, 0x00]) };
    for (const extra of [nameConstraints, unknownCritical]) {
      const constrained = makePki([ext.basicConstraints(true, 0), ext.caKeyUsage(), extra]);
      const l = makeLeaf(constrained);
      const t = loadTrustMaterial(trustedRoot(constrained));
      expect(code(() => verifyBundle(makeBundle(constrained, l, artifact), artifact, policy, t))).toBe(
        'CHAIN_UNTRUSTED',
      );
    }
  });

  it('chain: a CA without validFor.start in the trusted root is trusted at no time', () => {
    const root = trustedRoot(pki) as { certificateAuthorities: { validFor?: unknown }[] };
    delete root.certificateAuthorities[0].validFor;
    expect(code(() => verifyBundle(good, artifact, policy, loadTrustMaterial(root)))).toBe('CHAIN_UNTRUSTED');
  });

  it('chain: the CA must be trusted (validFor) at signing time', () => {
    const late = loadTrustMaterial(trustedRoot(pki, { caValidFrom: new Date('2025-06-01T00:00:00Z') }));
    expect(code(() => verifyBundle(good, artifact, policy, late))).toBe('CHAIN_UNTRUSTED');
  });

  it('validity is judged at the integrated time, not now', () => {
    expect(
      code(() =>
        verifyBundle(
          makeBundle(pki, leaf, artifact, { integratedTime: new Date(T0.getTime() + 11 * 60_000) }),
          artifact,
          policy,
          trust,
        ),
      ),
    ).toBe('CERT_EXPIRED_AT_SIGNING_TIME');
    expect(
      code(() =>
        verifyBundle(
          makeBundle(pki, leaf, artifact, { integratedTime: new Date(T0.getTime() - 1000) }),
          artifact,
          policy,
          trust,
        ),
      ),
    ).toBe('CERT_EXPIRED_AT_SIGNING_TIME');
  });

  it('leaf must not be a CA, must allow code signing, and carry no unknown critical extension', () => {
    const ca = makeLeaf(pki, { isCA: true });
    expect(code(() => verifyBundle(makeBundle(pki, ca, artifact), artifact, policy, trust))).toBe(
      'CERT_INVALID',
    );
    const serverAuth = makeLeaf(pki, { eku: ['1.3.6.1.5.5.7.3.1'] });
    expect(code(() => verifyBundle(makeBundle(pki, serverAuth, artifact), artifact, policy, trust))).toBe(
      'CERT_INVALID',
    );
    const critical = makeLeaf(pki, {
      extraExtensions: [{ oid: '1.2.3.4', critical: true, value: Buffer.from([5, 0]) }],
    });
    expect(code(() => verifyBundle(makeBundle(pki, critical, artifact), artifact, policy, trust))).toBe(
      'CERT_INVALID',
    );
  });

  it('SCT: missing, forged, or from an unknown log', () => {
    const none = makeLeaf(pki, { sct: 'none' });
    expect(code(() => verifyBundle(makeBundle(pki, none, artifact), artifact, policy, trust))).toBe(
      'SCT_MISSING',
    );
    expect(
      code(() =>
        verifyBundle(makeBundle(pki, none, artifact), artifact, { ...policy, ctlogThreshold: 0 }, trust),
      ),
    ).toBe('passed');
    const bad = makeLeaf(pki, { sct: 'bad-signature' });
    expect(code(() => verifyBundle(makeBundle(pki, bad, artifact), artifact, policy, trust))).toBe(
      'SCT_INVALID',
    );
    const unknown = makeLeaf(pki, { sct: 'unknown-log' });
    expect(code(() => verifyBundle(makeBundle(pki, unknown, artifact), artifact, policy, trust))).toBe(
      'SCT_INVALID',
    );
    const lateCt = loadTrustMaterial(trustedRoot(pki, { ctValidFrom: new Date('2026-01-01T00:00:00Z') }));
    expect(code(() => verifyBundle(good, artifact, policy, lateCt))).toBe('SCT_INVALID');
  });
});

describe('identity policy', () => {
  it('exact and regexp identity', () => {
    expect(
      code(() =>
        verifyBundle(good, artifact, withIdentity({ subjectAlternativeName: 'https://evil' }), trust),
      ),
    ).toBe('IDENTITY_MISMATCH');
    const re = (r: string) => ({ identity: { subjectAlternativeNameRegExp: r, issuer: ISSUER } });
    expect(code(() => verifyBundle(good, artifact, re('^https://github\\.com/octo/'), trust))).toBe('passed');
    expect(code(() => verifyBundle(good, artifact, re('^https://github\\.com/evil/'), trust))).toBe(
      'IDENTITY_MISMATCH',
    );
    const email = makeLeaf(pki, { identity: ext.sanEmail('dev@example.com') });
    const p = { identity: { subjectAlternativeName: 'dev@example.com', issuer: ISSUER } };
    expect(code(() => verifyBundle(makeBundle(pki, email, artifact), artifact, p, trust))).toBe('passed');
    expect(() =>
      verifyBundle(good, artifact, withIdentity({ subjectAlternativeName: 'https://evil' }), trust),
    ).toThrow(`certificate identity ${IDENTITY} does not match expected https://evil`);
  });

  it('exact and regexp issuer, v2 extension preferred over v1', () => {
    expect(
      code(() =>
        verifyBundle(good, artifact, withIdentity({ issuer: 'https://accounts.google.com' }), trust),
      ),
    ).toBe('ISSUER_MISMATCH');
    const re = (r: string) => ({ identity: { subjectAlternativeName: IDENTITY, issuerRegExp: r } });
    expect(code(() => verifyBundle(good, artifact, re('githubusercontent\\.com$'), trust))).toBe('passed');
    expect(code(() => verifyBundle(good, artifact, re('^https://gitlab'), trust))).toBe('ISSUER_MISMATCH');
    const noIssuer = makeLeaf(pki, { issuer: null });
    expect(code(() => verifyBundle(makeBundle(pki, noIssuer, artifact), artifact, policy, trust))).toBe(
      'ISSUER_MISMATCH',
    );
  });

  // cosign compiles identity patterns with Go's regexp (RE2) and calls MatchString, which is unanchored
  // (pkg/cosign/verify.go CheckCertificatePolicy). JavaScript's RegExp differs on each case below.
  it('identity regexps are Go RE2, unanchored as cosign matches them', () => {
    const re = (r: string) => ({ identity: { subjectAlternativeNameRegExp: r, issuer: ISSUER } });
    // (?i) is RE2's flag group; JavaScript (before ES2025 modifiers) refuses it outright.
    expect(code(() => verifyBundle(good, artifact, re('(?i)^HTTPS://GITHUB\\.COM/OCTO/'), trust))).toBe(
      'passed',
    );
    // \z is RE2's end of text; in JavaScript it is a literal "z".
    expect(
      code(() =>
        verifyBundle(good, artifact, re(`^${IDENTITY.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\z`), trust),
      ),
    ).toBe('passed');
    // Unanchored: a fragment in the middle matches, as with Go's MatchString.
    expect(code(() => verifyBundle(good, artifact, re('github\\.com/octo'), trust))).toBe('passed');
    // RE2 has no lookaround or backreferences: a policy using them is refused, not run differently.
    expect(code(() => verifyBundle(good, artifact, re('(?<=https://)github'), trust))).toBe('POLICY_INVALID');
    expect(code(() => verifyBundle(good, artifact, re('(a)\\1'), trust))).toBe('POLICY_INVALID');
  });

  it.each([
    ['githubWorkflowTrigger', '1.3.6.1.4.1.57264.1.2'],
    ['githubWorkflowSha', '1.3.6.1.4.1.57264.1.3'],
    ['githubWorkflowName', '1.3.6.1.4.1.57264.1.4'],
    ['githubWorkflowRepository', '1.3.6.1.4.1.57264.1.5'],
    ['githubWorkflowRef', '1.3.6.1.4.1.57264.1.6'],
  ] as const)('GitHub claim %s', (field, oidStr) => {
    const right = GITHUB[oidStr as keyof typeof GITHUB];
    expect(code(() => verifyBundle(good, artifact, withIdentity({ [field]: right }), trust))).toBe('passed');
    expect(code(() => verifyBundle(good, artifact, withIdentity({ [field]: `${right}x` }), trust))).toBe(
      'CLAIM_MISMATCH',
    );
  });

  it('policies must be complete', () => {
    expect(
      code(() => verifyBundle(good, artifact, { identity: { subjectAlternativeName: IDENTITY } }, trust)),
    ).toBe('POLICY_INVALID');
    expect(code(() => verifyBundle(good, artifact, { identity: { issuer: ISSUER } }, trust))).toBe(
      'POLICY_INVALID',
    );
    expect(
      code(() =>
        verifyBundle(
          good,
          artifact,
          { identity: { subjectAlternativeNameRegExp: '(', issuer: ISSUER } },
          trust,
        ),
      ),
    ).toBe('POLICY_INVALID');
  });
});

describe('signature and artifact', () => {
  it('signature by another key, artifact changed, artifact missing', () => {
    const forged = makeBundle(pki, leaf, artifact, { signWith: p256().privateKey });
    expect(code(() => verifyBundle(forged, artifact, policy, trust))).toBe('SIGNATURE_INVALID');
    expect(code(() => verifyBundle(good, Buffer.from('hello, sigil?'), policy, trust))).toBe(
      'DIGEST_MISMATCH',
    );
    expect(code(() => verifyBundle(good, undefined, policy, trust))).toBe('ARTIFACT_MISSING');
    const wrongDigest = createHash('sha256').update('x').digest();
    expect(code(() => verifyBundle(good, { digest: wrongDigest }, policy, trust))).toBe('DIGEST_MISMATCH');
  });

  it('DSSE signature covers the PAE', () => {
    const payload = Buffer.from('{"x":1}');
    const b = makeBundle(pki, leaf, artifact, { dsse: { payloadType: 'application/json', payload } });
    b.dsseEnvelope.payloadType = 'text/plain';
    expect(code(() => verifyBundle(b, undefined, policy, trust))).toBe('SIGNATURE_INVALID');
  });
});

describe('transparency log rules', () => {
  it('entry body must describe this signature, signer and artifact', () => {
    const otherArtifact = makeBundle(pki, leaf, Buffer.from('other'));
    const b = makeBundle(pki, leaf, artifact, {
      bodyOverride: JSON.parse(
        Buffer.from(otherArtifact.verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64').toString(),
      ),
    });
    expect(code(() => verifyBundle(b, artifact, policy, trust))).toBe('TLOG_BODY_MISMATCH');
    const otherLeaf = makeLeaf(pki);
    const body = JSON.parse(
      Buffer.from(good.verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64').toString(),
    );
    body.spec.signature.publicKey.content = Buffer.from(
      `-----BEGIN CERTIFICATE-----\n${otherLeaf.der.toString('base64')}\n-----END CERTIFICATE-----\n`,
    ).toString('base64');
    expect(
      code(() =>
        verifyBundle(makeBundle(pki, leaf, artifact, { bodyOverride: body }), artifact, policy, trust),
      ),
    ).toBe('TLOG_BODY_MISMATCH');
  });

  it('SET must be signed by the log, and the log must be trusted then', () => {
    expect(
      code(() =>
        verifyBundle(makeBundle(pki, leaf, artifact, { setKey: p256().privateKey }), artifact, policy, trust),
      ),
    ).toBe('SET_INVALID');
    const otherLog = loadTrustMaterial(trustedRoot(pki, { rekorKey: p256().publicKey }));
    expect(code(() => verifyBundle(good, artifact, policy, otherLog))).toBe('TLOG_UNTRUSTED');
    const lateLog = loadTrustMaterial(trustedRoot(pki, { tlogValidFrom: new Date('2026-01-01T00:00:00Z') }));
    expect(code(() => verifyBundle(good, artifact, policy, lateLog))).toBe('TLOG_UNTRUSTED');
  });

  it('inclusion proof, checkpoint signature, checkpoint consistency', () => {
    expect(
      code(() =>
        verifyBundle(makeBundle(pki, leaf, artifact, { corruptPath: true }), artifact, policy, trust),
      ),
    ).toBe('INCLUSION_PROOF_INVALID');
    expect(
      code(() =>
        verifyBundle(
          makeBundle(pki, leaf, artifact, { checkpointKey: p256().privateKey }),
          artifact,
          policy,
          trust,
        ),
      ),
    ).toBe('CHECKPOINT_INVALID');
    const otherRoot = createHash('sha256').update('other root').digest();
    expect(
      code(() =>
        verifyBundle(makeBundle(pki, leaf, artifact, { checkpointRoot: otherRoot }), artifact, policy, trust),
      ),
    ).toBe('CHECKPOINT_MISMATCH');
  });

  it('a bundle with no SET and no RFC 3161 timestamp has no verified signing time', () => {
    expect(
      code(() => verifyBundle(makeBundle(pki, leaf, artifact, { noSet: true }), artifact, policy, trust)),
    ).toBe('TIMESTAMP_MISSING');
  });

  it('tlog threshold', () => {
    const b = structuredClone(good);
    b.verificationMaterial.tlogEntries = [];
    expect(code(() => verifyBundle(b, artifact, policy, trust))).toBe('TLOG_MISSING');
  });
});

describe('trust material', () => {
  it('rejects what is not a trusted root', () => {
    expect(code(() => loadTrustMaterial('{'))).toBe('TRUST_ROOT_INVALID');
    expect(code(() => loadTrustMaterial({ mediaType: 'x' }))).toBe('TRUST_ROOT_INVALID');
    expect(trust.tlogs.values().next().value![0].key.asymmetricKeyType).toBe('ec');
  });
});
