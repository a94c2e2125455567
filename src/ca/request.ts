// A signing request and its answer as they cross between the HTTP layer, the issue workers and the CA engine:
// the Fulcio request's JSON forms (fulcio.proto CreateSigningCertificateRequest, protojson names, and the legacy v1
// body of pkg/server/legacy_server.go) parsed into a SigningRequest, and the prepared answer sent back. Kept apart
// from http.ts and answer.ts so that neither needs the other, and the engine needs neither.
import { CaError } from './errors.js';

export interface SigningRequest {
  token: string;
  /** PublicKeyRequest: the key (PEM, or base64 DER) and a signature over the token's challenge claim. */
  publicKey?: string;
  proofOfPossession?: Buffer;
  /** Or a PKCS#10 CSR (PEM or DER); its self-signature is the proof. */
  csr?: Buffer;
}

export type SigningApi = 'v1' | 'v2';

/** What the HTTP layer passes on: which API, the body as received (undefined: no body), the bearer token. */
export interface SigningInput {
  api: SigningApi;
  body?: string;
  bearer?: string;
}

/**
 * A ready HTTP answer. With a ctRecord it is a certificate that must not be sent before the record is durable
 * in the CT log (RFC 6962 §3: the SCT inside promises inclusion).
 */
export interface PreparedAnswer {
  status: number;
  contentType: string;
  body: string;
  ctRecord?: Buffer;
  /** Retry-After, in seconds, for a 503. */
  retryAfter?: number;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** protojson accepts both the lowerCamelCase JSON name and the original proto field name. */
function field(o: Record<string, unknown>, camel: string, snake: string): unknown {
  return o[camel] !== undefined ? o[camel] : o[snake];
}

function bytesField(v: unknown, what: string): Buffer | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v.replace(/\s/g, '')))
    throw new CaError(400, `${what} must be base64`);
  return Buffer.from(v, 'base64');
}

/** fulcio.proto CreateSigningCertificateRequest in its JSON form. */
export function parseV2Request(body: unknown, headerToken: string | undefined): SigningRequest {
  const o = obj(body);
  const token = field(obj(o.credentials), 'oidcIdentityToken', 'oidc_identity_token') ?? headerToken;
  if (typeof token !== 'string' || token === '')
    throw new CaError(401, 'credentials.oidcIdentityToken (or an Authorization: Bearer header) is required');
  const csr = bytesField(
    field(o, 'certificateSigningRequest', 'certificate_signing_request'),
    'certificateSigningRequest',
  );
  const pkr = field(o, 'publicKeyRequest', 'public_key_request');
  if (csr && pkr !== undefined)
    throw new CaError(400, 'send either publicKeyRequest or certificateSigningRequest, not both');
  if (csr) return { token, csr };
  if (pkr === undefined) throw new CaError(400, 'publicKeyRequest or certificateSigningRequest is required');
  const key = obj(field(obj(pkr), 'publicKey', 'public_key'));
  const content = key.content;
  if (typeof content !== 'string' || content === '')
    throw new CaError(400, 'publicKeyRequest.publicKey.content is required');
  const proof = bytesField(field(obj(pkr), 'proofOfPossession', 'proof_of_possession'), 'proofOfPossession');
  if (!proof) throw new CaError(400, 'publicKeyRequest.proofOfPossession is required');
  return { token, publicKey: content, proofOfPossession: proof };
}

/** The legacy v1 request: token in the Authorization header, key content and signedEmailAddress as bytes. */
export function parseV1Request(body: unknown, headerToken: string | undefined): SigningRequest {
  const o = obj(body);
  if (!headerToken) throw new CaError(401, 'an Authorization: Bearer <identity token> header is required');
  const csr = bytesField(o.certificateSigningRequest, 'certificateSigningRequest');
  if (csr) return { token: headerToken, csr };
  const key = obj(o.publicKey);
  const content = bytesField(key.content, 'publicKey.content');
  if (!content) throw new CaError(400, 'publicKey.content is required');
  const proof = bytesField(o.signedEmailAddress, 'signedEmailAddress');
  if (!proof) throw new CaError(400, 'signedEmailAddress (the proof of possession) is required');
  // v1 carries the key as bytes that may hold PEM or DER; hand PEM over as text, DER as base64.
  const text = content.toString('latin1');
  return {
    token: headerToken,
    publicKey: text.includes('-----BEGIN') ? text : content.toString('base64'),
    proofOfPossession: proof,
  };
}
