// Identity policy: which signer a certificate must name. Mirrors cosign's flags (--certificate-identity[-regexp],
// --certificate-oidc-issuer[-regexp], --certificate-github-workflow-*) over Fulcio's certificate extensions
// (sigstore/fulcio docs/oid-info.md). Pure functions of a parsed certificate, so the image flow reuses them as is.
import type { KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { type Certificate, FULCIO_OID, fulcioExtensionText } from '../formats/index.js';
import { fail } from './errors.js';

export interface IdentityPolicy {
  /** Exact Subject Alternative Name (email, URI or Fulcio otherName). */
  subjectAlternativeName?: string;
  /** Regular expression the SAN must match (unanchored, like cosign's Go regexp MatchString). */
  subjectAlternativeNameRegExp?: string | RegExp;
  /** Exact OIDC issuer (extension 1.3.6.1.4.1.57264.1.8, falling back to …1.1). */
  issuer?: string;
  issuerRegExp?: string | RegExp;
  /** GitHub Actions claims, checked against Fulcio's …1.2 to …1.6 extensions like cosign does. */
  githubWorkflowTrigger?: string;
  githubWorkflowSha?: string;
  githubWorkflowName?: string;
  githubWorkflowRepository?: string;
  githubWorkflowRef?: string;
  /** Any other extension by dotted OID → exact expected text. */
  extensions?: Record<string, string>;
}

export interface VerificationPolicy {
  /** Keyless: the certificate identity to require. */
  identity?: IdentityPolicy;
  /** Key-based: the signer's public key (KeyObject or PEM). Exactly one of identity / publicKey. */
  publicKey?: KeyObject | string;
  /** Embedded SCTs that must verify (default 1). */
  ctlogThreshold?: number;
  /** Transparency log entries that must verify (default 1). */
  tlogThreshold?: number;
}

export interface CertificateIdentity {
  subjectAlternativeNames: string[];
  issuer: string | undefined;
  /** Fulcio extensions present in the certificate, by dotted OID, as text. */
  extensions: Record<string, string>;
}

const GITHUB_CLAIMS: [keyof IdentityPolicy, string, string][] = [
  ['githubWorkflowTrigger', FULCIO_OID.githubWorkflowTrigger, 'GitHub workflow trigger'],
  ['githubWorkflowSha', FULCIO_OID.githubWorkflowSha, 'GitHub workflow SHA'],
  ['githubWorkflowName', FULCIO_OID.githubWorkflowName, 'GitHub workflow name'],
  ['githubWorkflowRepository', FULCIO_OID.githubWorkflowRepository, 'GitHub workflow repository'],
  ['githubWorkflowRef', FULCIO_OID.githubWorkflowRef, 'GitHub workflow ref'],
];

/** What a Fulcio certificate says about its subject. */
export function certificateIdentity(cert: Certificate): CertificateIdentity {
  const extensions: Record<string, string> = {};
  for (const ext of cert.extensions) {
    if (!ext.oid.startsWith('1.3.6.1.4.1.57264.1.')) continue;
    try {
      const text = fulcioExtensionText(cert, ext.oid);
      if (text !== undefined) extensions[ext.oid] = text;
    } catch {
      // A malformed extension we are not asked about is not our concern; one we are asked about fails below.
    }
  }
  return {
    subjectAlternativeNames: cert.subjectAltNames.map((n) => n.value),
    issuer: extensions[FULCIO_OID.issuerV2] ?? extensions[FULCIO_OID.issuerV1],
    extensions,
  };
}

/** What the identity checks need of a compiled regular expression. */
interface Matcher {
  test(s: string): boolean;
  source: string;
}

type Re2Module = {
  RE2JS: { compile(p: string): { matcher(s: string): { find(): boolean } } };
};
let re2: Re2Module | undefined;

/**
 * A pattern from a flag or a policy file is Go RE2 syntax, as cosign and sigstore-go read it: `(?i)`, `\z`, no
 * backreferences or lookaround, and linear-time matching. JavaScript's RegExp reads some of those differently and
 * refuses others, so patterns go through re2js (RE2's own port, pure JavaScript). It is loaded on first use with
 * require: a verification without a regexp does not pay for it. Matching is unanchored (Go's MatchString, as
 * cosign calls it); a pattern anchors itself with ^ and $.
 */
function toRegExp(r: string | RegExp, what: string): Matcher {
  if (r instanceof RegExp) return r;
  re2 ??= createRequire(import.meta.url)('re2js') as Re2Module;
  try {
    const compiled = re2.RE2JS.compile(r);
    return { test: (s) => compiled.matcher(s).find(), source: r };
  } catch (err) {
    fail(
      'POLICY_INVALID',
      `${what} regular expression ${JSON.stringify(r)} is invalid (Go RE2 syntax): ${(err as Error).message}`,
      err,
    );
  }
}

/** Checks a policy is complete before any work is done (cosign requires an identity and an issuer). */
export function validatePolicy(policy: VerificationPolicy): void {
  if (!policy || (policy.identity === undefined) === (policy.publicKey === undefined)) {
    fail('POLICY_INVALID', 'a policy needs exactly one of a certificate identity or a public key');
  }
  const p = policy.identity;
  if (!p) return;
  if ((p.subjectAlternativeName === undefined) === (p.subjectAlternativeNameRegExp === undefined)) {
    fail('POLICY_INVALID', 'exactly one of certificate identity or certificate identity regexp is required');
  }
  if ((p.issuer === undefined) === (p.issuerRegExp === undefined)) {
    fail(
      'POLICY_INVALID',
      'exactly one of certificate OIDC issuer or certificate OIDC issuer regexp is required',
    );
  }
}

/** Enforces an identity policy; throws IDENTITY_MISMATCH / ISSUER_MISMATCH / CLAIM_MISMATCH with the values. */
export function checkIdentity(id: CertificateIdentity, p: IdentityPolicy): void {
  const sans = id.subjectAlternativeNames;
  const shown = sans.length ? sans.join(', ') : '(none)';
  if (p.subjectAlternativeName !== undefined && !sans.includes(p.subjectAlternativeName)) {
    fail(
      'IDENTITY_MISMATCH',
      `certificate identity ${shown} does not match expected ${p.subjectAlternativeName}`,
    );
  }
  if (p.subjectAlternativeNameRegExp !== undefined) {
    const re = toRegExp(p.subjectAlternativeNameRegExp, 'certificate identity');
    if (!sans.some((s) => re.test(s))) {
      fail('IDENTITY_MISMATCH', `certificate identity ${shown} does not match expected regexp ${re.source}`);
    }
  }
  const issuer = id.issuer;
  if (p.issuer !== undefined && issuer !== p.issuer) {
    fail(
      'ISSUER_MISMATCH',
      `certificate OIDC issuer ${issuer ?? '(none)'} does not match expected ${p.issuer}`,
    );
  }
  if (p.issuerRegExp !== undefined) {
    const re = toRegExp(p.issuerRegExp, 'certificate OIDC issuer');
    if (issuer === undefined || !re.test(issuer)) {
      fail(
        'ISSUER_MISMATCH',
        `certificate OIDC issuer ${issuer ?? '(none)'} does not match expected regexp ${re.source}`,
      );
    }
  }
  for (const [field, oid, label] of GITHUB_CLAIMS) {
    const want = p[field] as string | undefined;
    if (want !== undefined && id.extensions[oid] !== want) {
      fail(
        'CLAIM_MISMATCH',
        `certificate ${label} ${id.extensions[oid] ?? '(none)'} does not match expected ${want}`,
      );
    }
  }
  for (const [oid, want] of Object.entries(p.extensions ?? {})) {
    if (id.extensions[oid] !== want) {
      fail(
        'CLAIM_MISMATCH',
        `certificate extension ${oid} ${id.extensions[oid] ?? '(none)'} does not match expected ${want}`,
      );
    }
  }
}
