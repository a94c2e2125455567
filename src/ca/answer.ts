// A signing request from its raw HTTP body to the HTTP answer, everything but the durable CT append: parse the
// JSON (once, where the work happens: in an issue worker, or on the main thread without workers), read the
// request (request.ts), run CertificateAuthority.prepare, and render the response body (fulcio.proto
// SigningCertificate as protojson for v2, a PEM chain for the legacy v1 API). The main thread then only
// appends the CT record and writes the bytes out.
import type { CertificateAuthority } from './authority.js';
import { pemJsonString, toPem } from './certificate.js';
import { CaError } from './errors.js';
import { type PreparedAnswer, parseV1Request, parseV2Request, type SigningInput } from './request.js';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const PEM_CHAIN = 'application/pem-certificate-chain';

/** The JSON error answer every CA route gives: `{code, message}` (fulcio's grpc-gateway error shape). */
export function errorAnswer(status: number, message: string, retryAfter?: number): PreparedAnswer {
  return { status, contentType: JSON_TYPE, body: JSON.stringify({ code: status, message }), retryAfter };
}

/** Runs one signing request to its answer; a CaError becomes a 4xx/5xx answer, anything else is a bug and throws. */
export async function answerSigningRequest(
  ca: CertificateAuthority,
  input: SigningInput,
): Promise<PreparedAnswer> {
  try {
    let json: unknown = {};
    if (input.body !== undefined) {
      try {
        json = JSON.parse(input.body);
      } catch {
        throw new CaError(400, 'the request body is not valid JSON');
      }
    }
    const req = input.api === 'v2' ? parseV2Request(json, input.bearer) : parseV1Request(json, input.bearer);
    const prepared = await ca.prepare(req);
    const chain = ca.chainPemTail;
    return input.api === 'v2'
      ? {
          status: 200,
          contentType: JSON_TYPE,
          // The intermediate and root are the same in every answer: their JSON is rendered once.
          body: `{"signedCertificateEmbeddedSct":{"chain":{"certificates":[${pemJsonString(prepared.leafDer)},${ca.chainTailJson}]}}}`,
          ctRecord: prepared.ctRecord,
        }
      : {
          status: 201,
          contentType: PEM_CHAIN,
          body: [toPem(prepared.leafDer).trim(), ...chain].join('\n'),
          ctRecord: prepared.ctRecord,
        };
  } catch (err) {
    if (err instanceof CaError) return errorAnswer(err.status, err.message, err.retryAfterSeconds);
    throw err;
  }
}
