// In-toto statements for attestations (in-toto/attestation spec/v1 Statement; sigstore/cosign
// specs/ATTESTATION_SPEC.md and options/predicate.go): cosign's predicate type names mapped to their URIs, and
// the statement cosign builds around a predicate file — SPDX tag-value as a string, JSON predicates as JSON,
// and the "custom" type wrapped as {Data, Timestamp}.
import { SignError } from './errors.js';

export const IN_TOTO_STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

/** cosign's --type values (options/predicate.go PredicateTypeMap). */
export const PREDICATE_TYPES: Record<string, string> = {
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  link: 'https://in-toto.io/Link/v1',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
};

/** A --type value → the predicate type URI; anything else must itself be an absolute URI. */
export function predicateTypeUri(type: string): string {
  const known = PREDICATE_TYPES[type];
  if (known) return known;
  try {
    const u = new URL(type);
    if (u.protocol && type.includes(':')) return type;
  } catch {
    // fall through
  }
  throw new SignError(
    'INPUT_ERROR',
    `invalid predicate type "${type}": use one of ${Object.keys(PREDICATE_TYPES).join(', ')} or a URI`,
  );
}

export interface StatementInput {
  /** --type: a cosign name or a URI. */
  type: string;
  /** The predicate file's bytes. */
  predicate: Uint8Array;
  /** The subject: name (image repository or file name) and its sha256 digest (hex). */
  subjectName: string;
  sha256: string;
  /** For "custom": the time to stamp (cosign uses the signing time). */
  now?: Date;
}

function parseJson(bytes: Uint8Array, type: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new SignError('INPUT_ERROR', `the ${type} predicate is not JSON: ${(err as Error).message}`);
  }
}

/** Builds the in-toto statement (v0.1, as cosign does) for a predicate. */
export function buildStatement(input: StatementInput): Record<string, unknown> {
  if (!/^[0-9a-f]{64}$/.test(input.sha256))
    throw new SignError('INPUT_ERROR', `subject digest must be 64 hex, got ${input.sha256}`);
  const predicateType = predicateTypeUri(input.type);
  let predicate: unknown;
  if (input.type === 'spdx') {
    predicate = Buffer.from(input.predicate).toString('utf8');
  } else if (input.type === 'custom' || !(input.type in PREDICATE_TYPES)) {
    // cosign wraps a custom predicate, whatever it is, as {Data: <text>, Timestamp}. A URI type is "custom" too.
    predicate = {
      Data: Buffer.from(input.predicate).toString('utf8'),
      Timestamp: (input.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  } else {
    predicate = parseJson(input.predicate, input.type);
  }
  return {
    _type: IN_TOTO_STATEMENT_V01,
    predicateType,
    subject: [{ name: input.subjectName, digest: { sha256: input.sha256 } }],
    predicate,
  };
}
