// What `sigil verify` prints, in cosign's shapes (cosign cmd/cosign/cli/verify/common.go PrintVerificationHeader /
// PrintVerification): the list of checks on stderr, and on stdout a JSON array of the verified simple-signing
// payloads with `optional` extended by the certificate's Subject, Issuer, GitHub workflow claims (both by name
// and by OID) and the Rekor Bundle. Pure functions of verification results.
import type { VerifiedSignature } from '../verify/index.js';

const GITHUB_FIELDS: [string, string][] = [
  ['1.3.6.1.4.1.57264.1.2', 'githubWorkflowTrigger'],
  ['1.3.6.1.4.1.57264.1.3', 'githubWorkflowSha'],
  ['1.3.6.1.4.1.57264.1.4', 'githubWorkflowName'],
  ['1.3.6.1.4.1.57264.1.5', 'githubWorkflowRepository'],
  ['1.3.6.1.4.1.57264.1.6', 'githubWorkflowRef'],
];

/** cosign's header: which checks were performed on each signature. */
export function checksHeader(
  image: string,
  keyBased: boolean,
  tlogVerified: boolean,
  annotations: boolean,
): string {
  const lines = [
    '',
    `Verification for ${image} --`,
    'The following checks were performed on each of these signatures:',
  ];
  if (annotations) lines.push('  - The specified annotations were verified.');
  lines.push('  - The cosign claims were validated');
  if (tlogVerified) lines.push('  - Existence of the claims in the transparency log was verified offline');
  if (keyBased) lines.push('  - The signatures were verified against the specified public key');
  else
    lines.push(
      '  - The code-signing certificate was verified using trusted certificate authority certificates',
    );
  return `${lines.join('\n')}\n`;
}

/** One element of cosign verify's JSON array. */
export function cosignPayloadJson(v: VerifiedSignature): Record<string, unknown> {
  const payload = JSON.parse(v.candidate.payload.toString('utf8')) as Record<string, unknown>;
  const optional: Record<string, unknown> = {
    ...((payload.optional as Record<string, unknown> | null) ?? {}),
  };
  const id = v.result.signer.identity;
  if (id) {
    optional.Subject = id.subjectAlternativeNames[0] ?? '';
    if (id.issuer) {
      optional.Issuer = id.issuer;
      optional['1.3.6.1.4.1.57264.1.1'] = id.issuer;
    }
    for (const [oid, name] of GITHUB_FIELDS) {
      const value = id.extensions[oid];
      if (value) {
        optional[name] = value;
        optional[oid] = value;
      }
    }
  }
  if (v.candidate.rekorBundle) optional.Bundle = v.candidate.rekorBundle;
  return { ...payload, optional: Object.keys(optional).length ? optional : null };
}

/** The same signature found in both layouts is one signature: keep the first of each. */
export function uniqueSignatures(verified: VerifiedSignature[]): VerifiedSignature[] {
  const seen = new Set<string>();
  return verified.filter((v) => {
    const c = v.candidate.bundle.content;
    const sig = c.kind === 'messageSignature' ? c.signature : c.envelope.signatures[0].sig;
    const key = sig.toString('base64');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
