// verifyBundle: the whole offline verification of one Sigstore bundle (sigstore/architecture-docs
// client-spec.md §4 "Verification"): artifact ↔ signed content, signature, transparency log evidence (SET,
// inclusion proof, checkpoint, entry body), verified signing times, certificate chain at those times, embedded
// SCTs, and the identity policy. Each failure is a VerificationError with its own code.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  type Bundle,
  BundleFormatError,
  type Certificate,
  hashNameOf,
  IN_TOTO_PAYLOAD_TYPE,
  parseAnyBundle,
  parseCertificate,
  parseInTotoStatement,
  preAuthEncoding,
  spkiPublicKey,
} from '../formats/index.js';
import {
  type CertificatePath,
  checkLeaf,
  checkPathAtTimes,
  findCertificatePaths,
  verifyEmbeddedScts,
} from './certificate.js';
import { verifyEcdsaPrehashed } from './ecdsa-prehash.js';
import { fail, VerificationError } from './errors.js';
import {
  type CertificateIdentity,
  certificateIdentity,
  checkIdentity,
  type VerificationPolicy,
  validatePolicy,
} from './policy.js';
import { verifyRfc3161Timestamps } from './timestamp.js';
import { verifyTlogEntry } from './tlog.js';
import { checkTlogBody, type SignerMaterial } from './tlog-body.js';
import type { TrustMaterial } from './trust-material.js';

/** The artifact: its bytes, or only its digest (then ECDSA signatures are checked over the digest). */
export type ArtifactInput =
  | Uint8Array
  | { digest: Uint8Array; algorithm?: 'sha256' | 'sha384' | 'sha512' }
  | undefined;

export type CheckId =
  | 'artifact-digest'
  | 'in-toto-subject'
  | 'signature'
  | 'tlog-set'
  | 'tlog-inclusion-proof'
  | 'tlog-checkpoint'
  | 'tlog-body'
  | 'timestamp-authority'
  | 'certificate-chain'
  | 'certificate-validity'
  | 'sct'
  | 'identity'
  | 'public-key';

export interface VerificationResult {
  bundleVersion: string;
  checks: CheckId[];
  signer: {
    publicKey: KeyObject;
    certificate?: Certificate;
    identity?: CertificateIdentity;
  };
  /** Every verified time of signing (SET integrated times, RFC 3161 times). */
  signingTimes: Date[];
  tlogEntries: { logIndex: number; logId: string; integratedTime?: Date }[];
  /** For DSSE bundles: the verified payload. */
  dsse?: { payloadType: string; payload: Buffer };
}

function keyOf(k: KeyObject | string): KeyObject {
  if (typeof k !== 'string') return k;
  try {
    return createPublicKey(k);
  } catch (err) {
    fail('POLICY_INVALID', 'the policy public key is not a PEM public key', err);
  }
}

function spkiOf(k: KeyObject): Buffer {
  return k.export({ type: 'spki', format: 'der' });
}

/** node:crypto digest argument for a key (none for Ed25519, SHA-384 for P-384). */
function keyHash(k: KeyObject): string | null {
  if (k.asymmetricKeyType === 'ed25519') return null;
  if (k.asymmetricKeyDetails?.namedCurve === 'secp384r1') return 'sha384';
  if (k.asymmetricKeyDetails?.namedCurve === 'secp521r1') return 'sha512';
  return 'sha256';
}

interface Signer {
  key: KeyObject;
  certificate?: Certificate;
  material: SignerMaterial;
}

function resolveSigner(bundle: Bundle, policy: VerificationPolicy, checks: CheckId[]): Signer {
  const vm = bundle.verificationMaterial.content;
  if (vm.kind === 'publicKey') {
    if (!policy.publicKey) {
      fail(
        'KEY_MISMATCH',
        `bundle is signed with a public key (hint ${JSON.stringify(vm.hint)}) but no key was given to verify it with`,
      );
    }
    const key = keyOf(policy.publicKey);
    return { key, material: { spki: spkiOf(key) } };
  }
  const certs = vm.kind === 'certificate' ? [vm.certificate] : vm.certificates;
  let leaf: Certificate;
  try {
    leaf = parseCertificate(certs[0]);
  } catch (err) {
    fail('CERT_INVALID', `signing certificate does not parse: ${(err as Error).message}`, err);
  }
  // Roots come from the trusted root only; a bundle that ships one is trying to bring its own trust.
  for (const der of certs.slice(1)) {
    let c: Certificate;
    try {
      c = parseCertificate(der);
    } catch (err) {
      fail(
        'BUNDLE_INVALID',
        `a certificate in the bundle's chain does not parse: ${(err as Error).message}`,
        err,
      );
    }
    if (c.subject.equals(c.issuer))
      fail('BUNDLE_INVALID', "the bundle's certificate chain contains a root certificate");
  }
  checkLeaf(leaf);
  let key: KeyObject;
  try {
    key = spkiPublicKey(leaf.spki);
  } catch (err) {
    fail('CERT_INVALID', 'signing certificate public key does not parse', err);
  }
  if (policy.publicKey) {
    if (!spkiOf(keyOf(policy.publicKey)).equals(leaf.spki)) {
      fail('KEY_MISMATCH', "the signing certificate's key is not the expected public key");
    }
    checks.push('public-key');
  }
  return { key, certificate: leaf, material: { certificate: leaf.der, spki: leaf.spki } };
}

function artifactDigestOf(
  artifact: ArtifactInput,
  algorithm: string,
): { algorithm: string; value: Buffer; bytes?: Uint8Array } | undefined {
  if (artifact === undefined) return undefined;
  if (artifact instanceof Uint8Array) {
    return { algorithm, value: createHash(algorithm).update(artifact).digest(), bytes: artifact };
  }
  const alg = artifact.algorithm ?? 'sha256';
  if (alg !== algorithm)
    fail('DIGEST_MISMATCH', `artifact digest is ${alg} but the bundle signs a ${algorithm} digest`);
  return { algorithm: alg, value: Buffer.from(artifact.digest) };
}

/** Verifies a Sigstore bundle offline. Throws VerificationError; returns what was checked and who signed. */
export function verifyBundle(
  bundleInput: Bundle | string | Uint8Array | unknown,
  artifact: ArtifactInput,
  policy: VerificationPolicy,
  trust: TrustMaterial,
): VerificationResult {
  validatePolicy(policy);
  let bundle: Bundle;
  try {
    bundle = isParsedBundle(bundleInput) ? bundleInput : parseAnyBundle(bundleInput);
  } catch (err) {
    if (err instanceof BundleFormatError) fail('BUNDLE_INVALID', err.message, err);
    throw err;
  }
  const checks: CheckId[] = [];
  const signer = resolveSigner(bundle, policy, checks);
  // Who issued the certificate is settled first (time-independent); validity waits for the verified times.
  const keyless = signer.certificate !== undefined && !policy.publicKey;
  const paths: CertificatePath[] = keyless ? findCertificatePaths(signer.certificate!, trust) : [];

  // 1. The artifact is what was signed, and the signature holds.
  let artifactDigest: { algorithm: string; value: Buffer } | undefined;
  const content = bundle.content;
  if (content.kind === 'messageSignature') {
    const hashName = hashNameOf(content.messageDigest?.algorithm ?? 'SHA2_256');
    const d = artifactDigestOf(artifact, hashName);
    if (!d) fail('ARTIFACT_MISSING', 'a message signature bundle needs the artifact or its digest');
    if (content.messageDigest && !content.messageDigest.digest.equals(d.value)) {
      fail(
        'DIGEST_MISMATCH',
        `artifact ${hashName} digest ${d.value.toString('hex')} does not match the bundle's ${content.messageDigest.digest.toString('hex')}`,
      );
    }
    artifactDigest = d;
    checks.push('artifact-digest');
    const k = signer.key;
    let ok: boolean;
    if (d.bytes) {
      ok = safeVerify(k.asymmetricKeyType === 'ed25519' ? null : hashName, d.bytes, k, content.signature);
    } else if (k.asymmetricKeyType === 'ec') {
      ok = verifyEcdsaPrehashed(k, d.value, content.signature);
    } else {
      fail(
        'UNSUPPORTED',
        `verifying a ${k.asymmetricKeyType} signature needs the artifact itself, not its digest`,
      );
    }
    if (!ok) fail('SIGNATURE_INVALID', 'signature over the artifact does not verify with the signer key');
    checks.push('signature');
  } else {
    const env = content.envelope;
    if (artifact !== undefined) checkDsseArtifact(env.payloadType, env.payload, artifact);
    if (artifact !== undefined)
      checks.push(env.payloadType === IN_TOTO_PAYLOAD_TYPE ? 'in-toto-subject' : 'artifact-digest');
    const pae = preAuthEncoding(env.payloadType, env.payload);
    if (!safeVerify(keyHash(signer.key), pae, signer.key, env.signatures[0].sig)) {
      fail('SIGNATURE_INVALID', 'DSSE envelope signature does not verify with the signer key');
    }
    checks.push('signature');
  }

  // 2. Transparency log evidence, and the entry describes this very signature.
  const entries = bundle.verificationMaterial.tlogEntries;
  const tlogThreshold = policy.tlogThreshold ?? 1;
  if (entries.length < tlogThreshold) {
    fail('TLOG_MISSING', `bundle has ${entries.length} transparency log entries, ${tlogThreshold} required`);
  }
  const signingTimes: number[] = [];
  const tlogEntries: VerificationResult['tlogEntries'] = [];
  for (const entry of entries) {
    const ev = verifyTlogEntry(entry, trust);
    if (ev.setVerified) pushOnce(checks, 'tlog-set');
    if (ev.proofVerified) pushOnce(checks, 'tlog-inclusion-proof', 'tlog-checkpoint');
    let body: unknown;
    try {
      body = JSON.parse(entry.canonicalizedBody.toString('utf8'));
    } catch {
      fail('TLOG_BODY_MISMATCH', `transparency log entry ${entry.logIndex} body is not JSON`);
    }
    checkTlogBody(entry, body as Record<string, unknown>, bundle, signer.material, artifactDigest);
    pushOnce(checks, 'tlog-body');
    if (ev.verifiedTime !== undefined) signingTimes.push(ev.verifiedTime);
    tlogEntries.push({
      logIndex: entry.logIndex,
      logId: entry.logId.toString('hex'),
      integratedTime: ev.verifiedTime === undefined ? undefined : new Date(ev.verifiedTime),
    });
  }

  // 3. Verified times of signing: the SETs' integrated times and RFC 3161 timestamps over the signature.
  const signatureBytes =
    content.kind === 'messageSignature' ? content.signature : content.envelope.signatures[0].sig;
  const tsaTimes = verifyRfc3161Timestamps(
    bundle.verificationMaterial.rfc3161Timestamps,
    signatureBytes,
    trust,
  );
  if (tsaTimes.length > 0) checks.push('timestamp-authority');
  signingTimes.push(...tsaTimes);
  if (signingTimes.length === 0) {
    fail(
      'TIMESTAMP_MISSING',
      'no verified time of signing: the bundle has neither a signed entry timestamp nor an RFC 3161 timestamp',
    );
  }

  // 4. The certificate, at those times, and who it names.
  let identity: CertificateIdentity | undefined;
  if (keyless && signer.certificate) {
    const path = checkPathAtTimes(signer.certificate, paths, signingTimes);
    checks.push('certificate-chain', 'certificate-validity');
    verifyEmbeddedScts(signer.certificate, path.issuer, trust, policy.ctlogThreshold ?? 1);
    if ((policy.ctlogThreshold ?? 1) > 0) checks.push('sct');
    identity = certificateIdentity(signer.certificate);
    checkIdentity(identity, policy.identity!);
    checks.push('identity');
  } else if (!policy.publicKey) {
    fail('POLICY_INVALID', 'a certificate identity policy needs a bundle signed with a certificate');
  } else {
    pushOnce(checks, 'public-key');
  }

  return {
    bundleVersion: bundle.version,
    checks,
    signer: { publicKey: signer.key, certificate: signer.certificate, identity },
    signingTimes: signingTimes.map((t) => new Date(t)),
    tlogEntries,
    dsse:
      content.kind === 'dsseEnvelope'
        ? { payloadType: content.envelope.payloadType, payload: content.envelope.payload }
        : undefined,
  };
}

function pushOnce(checks: CheckId[], ...ids: CheckId[]): void {
  for (const id of ids) if (!checks.includes(id)) checks.push(id);
}

function safeVerify(hash: string | null, data: Uint8Array, key: KeyObject, sig: Uint8Array): boolean {
  try {
    return verify(hash, data, key, sig);
  } catch {
    return false;
  }
}

function isParsedBundle(v: unknown): v is Bundle {
  // A parsed Bundle has `version` and a tagged `content`; bundle JSON has neither.
  return (
    typeof v === 'object' && v !== null && 'version' in v && typeof (v as Bundle).content?.kind === 'string'
  );
}

/** For DSSE: the artifact must be a subject of the in-toto statement, or the payload itself otherwise. */
function checkDsseArtifact(payloadType: string, payload: Buffer, artifact: NonNullable<ArtifactInput>): void {
  const digest =
    artifact instanceof Uint8Array
      ? createHash('sha256').update(artifact).digest('hex')
      : (artifact.algorithm ?? 'sha256') === 'sha256'
        ? Buffer.from(artifact.digest).toString('hex')
        : fail('UNSUPPORTED', 'in-toto subjects are matched by sha256 digest');
  if (payloadType === IN_TOTO_PAYLOAD_TYPE) {
    let statement: ReturnType<typeof parseInTotoStatement>;
    try {
      statement = parseInTotoStatement(payload);
    } catch (err) {
      fail('SUBJECT_MISMATCH', (err as Error).message, err);
    }
    if (!statement.subject.some((s) => s.digest.sha256?.toLowerCase() === digest)) {
      fail('SUBJECT_MISMATCH', `artifact sha256:${digest} is not a subject of the in-toto statement`);
    }
    return;
  }
  if (createHash('sha256').update(payload).digest('hex') !== digest) {
    fail('DIGEST_MISMATCH', `artifact sha256:${digest} is not the signed DSSE payload`);
  }
}

export { VerificationError };
