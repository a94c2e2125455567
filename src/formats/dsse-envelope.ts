// DSSE envelopes (secure-systems-lab/dsse envelope.md) and the pre-authentication encoding every DSSE signature
// is computed over (protocol.md: PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, with LEN
// the ASCII decimal byte length). In-toto statements (in-toto/attestation spec/v1) ride in the payload.

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  keyid: string;
  sig: Buffer;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: Buffer;
  signatures: DsseSignature[];
}

export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}

export interface InTotoSubject {
  name?: string;
  digest: Record<string, string>;
}

export interface InTotoStatement {
  _type: string;
  subject: InTotoSubject[];
  predicateType: string;
  predicate?: unknown;
}

/** Parses an in-toto Statement (v0.1 or v1), or throws with the reason it is not one. */
export function parseInTotoStatement(payload: Uint8Array): InTotoStatement {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new Error('in-toto statement: payload is not JSON');
  }
  const s = json as Partial<InTotoStatement>;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s._type !== 'string' ||
    !s._type.startsWith('https://in-toto.io/Statement/')
  ) {
    throw new Error('in-toto statement: missing or unknown _type');
  }
  if (
    !Array.isArray(s.subject) ||
    s.subject.some((x) => typeof x?.digest !== 'object' || x.digest === null)
  ) {
    throw new Error('in-toto statement: subject must be a list of {name, digest}');
  }
  return s as InTotoStatement;
}
