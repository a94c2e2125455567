// The signing certificate: issued by a certificate authority of the trusted root, valid (with its whole path)
// at every verified signing time — not now: Fulcio certificates live ten minutes (sigstore architecture-docs
// client-spec.md) — fit for code signing, and logged to a trusted CT log (embedded SCTs, RFC 6962 §3.3).
import { verify, X509Certificate } from 'node:crypto';
import {
  type Certificate,
  certificateSignedBy,
  findExtension,
  KEY_USAGE,
  OID,
  parseSctList,
  precertificateTbs,
  precertSignedData,
  sctHashName,
} from '../formats/index.js';
import { fail } from './errors.js';
import {
  inRange,
  type TrustedAuthority,
  type TrustedCertificate,
  type TrustMaterial,
} from './trust-material.js';

export interface CertificatePath {
  authority: TrustedAuthority;
  /** The trusted certificate that issued the leaf. */
  issuer: TrustedCertificate;
  path: TrustedCertificate[];
}

function nameOf(der: Buffer, field: 'subject' | 'issuer'): string {
  try {
    return new X509Certificate(der)[field].replace(/\n/g, ', ');
  } catch {
    return '(unreadable name)';
  }
}

const NAME_CONSTRAINTS_OID = '2.5.29.30';

/** Leaf rules that do not depend on the trust root: RFC 5280 §4.2 critical extensions, leaf not a CA, EKU. */
export function checkLeaf(leaf: Certificate): void {
  if (leaf.unknownCritical)
    fail('CERT_INVALID', `certificate has unknown critical extension ${leaf.unknownCritical}`);
  if (leaf.isCA) fail('CERT_INVALID', 'signing certificate is a CA certificate');
  if (leaf.keyUsage !== undefined && (leaf.keyUsage & KEY_USAGE.digitalSignature) === 0) {
    fail('CERT_INVALID', 'signing certificate key usage does not include digitalSignature');
  }
  const eku = leaf.extKeyUsage;
  if (eku && !eku.includes(OID.codeSigning) && !eku.includes(OID.anyExtendedKeyUsage)) {
    fail('CERT_INVALID', 'signing certificate is not valid for code signing (extended key usage)');
  }
}

/** Every trusted-root path that issued `leaf` (signature, names, CA constraints); CHAIN_UNTRUSTED when none. */
export function findCertificatePaths(leaf: Certificate, trust: TrustMaterial): CertificatePath[] {
  const found: CertificatePath[] = [];
  let reason: string | undefined;
  for (const authority of trust.certificateAuthorities) {
    const j = authority.chain.findIndex(
      (c) => c.cert.subject.equals(leaf.issuer) && certificateSignedBy(leaf, c.key),
    );
    if (j < 0) continue;
    if (authority.unusable) {
      reason = authority.unusable;
      continue;
    }
    const path = authority.chain.slice(j);
    // RFC 5280 §4.2.1.9 / §4.2.1.3: every issuer is a CA within its path length, allowed to sign certificates.
    const badCA = path.find(
      (c, depth) =>
        !c.cert.isCA ||
        (c.cert.pathLenConstraint ?? Number.POSITIVE_INFINITY) < depth ||
        (c.cert.keyUsage !== undefined && (c.cert.keyUsage & KEY_USAGE.keyCertSign) === 0),
    );
    if (badCA) {
      reason = `${nameOf(badCA.cert.der, 'subject')} may not issue certificates (basic constraints / key usage)`;
      continue;
    }
    // RFC 5280 §4.2.1.10 name constraints restrict what a CA may name; sigil does not evaluate them, so a path
    // whose CA carries them is refused rather than trusted wider than its issuer meant. So is a CA with any
    // critical extension sigil does not understand (§4.2, §6.1.4).
    const constrained = path.find((c) => c.cert.extensions.some((e) => e.oid === NAME_CONSTRAINTS_OID));
    if (constrained) {
      reason = `${nameOf(constrained.cert.der, 'subject')} carries X.509 name constraints, which sigil does not evaluate`;
      continue;
    }
    const unknown = path.find((c) => c.cert.unknownCritical);
    if (unknown) {
      reason = `${nameOf(unknown.cert.der, 'subject')} has unknown critical extension ${unknown.cert.unknownCritical}`;
      continue;
    }
    found.push({ authority, issuer: authority.chain[j], path });
  }
  if (found.length === 0) {
    fail(
      'CHAIN_UNTRUSTED',
      reason ??
        `certificate issued by ${nameOf(leaf.der, 'issuer')} does not chain to a certificate authority in the trusted root`,
    );
  }
  return found;
}

/** Picks the path whose authority was trusted at every signing time, and checks each certificate's validity. */
export function checkPathAtTimes(
  leaf: Certificate,
  paths: CertificatePath[],
  signingTimes: number[],
): CertificatePath {
  const found = paths.find((p) => signingTimes.every((t) => inRange(p.authority.validFor, t)));
  if (!found) {
    const t = signingTimes.find((x) => !inRange(paths[0].authority.validFor, x)) ?? 0;
    fail(
      'CHAIN_UNTRUSTED',
      `certificate authority ${paths[0].authority.name} was not trusted at signing time ${new Date(t).toISOString()}`,
    );
  }
  for (const t of signingTimes) {
    for (const c of [leaf, ...found.path.map((p) => p.cert)]) {
      if (t < c.notBefore.getTime() || t > c.notAfter.getTime()) {
        fail(
          'CERT_EXPIRED_AT_SIGNING_TIME',
          `${c === leaf ? 'signing certificate' : `CA certificate ${nameOf(c.der, 'subject')}`} was not valid at signing time ${new Date(t).toISOString()} (valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()})`,
        );
      }
    }
  }
  return found;
}

/** Verifies the embedded SCTs; returns how many verified against trusted CT logs. */
export function verifyEmbeddedScts(
  leaf: Certificate,
  issuer: TrustedCertificate,
  trust: TrustMaterial,
  threshold: number,
): number {
  if (threshold <= 0) return 0;
  const ext = findExtension(leaf, OID.sctList);
  if (!ext) fail('SCT_MISSING', 'signing certificate has no embedded SCT');
  let scts: ReturnType<typeof parseSctList>;
  try {
    scts = parseSctList(ext.value);
  } catch (err) {
    fail('SCT_INVALID', `embedded SCT list is malformed: ${(err as Error).message}`, err);
  }
  if (scts.length === 0) fail('SCT_MISSING', 'signing certificate has an empty SCT list');
  const tbs = precertificateTbs(leaf);
  let verified = 0;
  const unknown: string[] = [];
  for (const sct of scts) {
    const logIdHex = sct.logId.toString('hex');
    const logs = (trust.ctlogs.get(logIdHex) ?? []).filter(
      (l) => !l.unusable && inRange(l.validFor, Number(sct.timestamp)),
    );
    if (logs.length === 0) {
      unknown.push(logIdHex);
      continue;
    }
    const hash = sctHashName(sct.hashAlgorithm);
    const data = precertSignedData(sct.timestamp, issuer.keyHash, tbs, sct.extensions);
    const ok = logs.some((l) => {
      try {
        return (
          hash !== undefined &&
          verify(l.key.asymmetricKeyType === 'ed25519' ? null : hash, data, l.key, sct.signature)
        );
      } catch {
        return false;
      }
    });
    // A bad signature from a log we trust is a forgery, not a missing SCT.
    if (!ok) fail('SCT_INVALID', `SCT from CT log ${logIdHex} does not verify`);
    verified++;
  }
  if (verified < threshold) {
    fail(
      'SCT_INVALID',
      `${verified} of ${threshold} required SCTs verified (no trusted CT log for ${unknown.join(', ')})`,
    );
  }
  return verified;
}
