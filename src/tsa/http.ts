// The timestamp authority's wire API, as sigstore/timestamp-authority serves it (openapi.yaml):
//   POST /api/v1/timestamp            application/timestamp-query (RFC 3161 §3.4) or sigstore's JSON request
//                                     → application/timestamp-reply
//   GET  /api/v1/timestamp/certchain  the chain as PEM, signing certificate first
// A refused DER request gets 400 with a TimeStampResp whose status is rejection, its failInfo and a statusString
// saying what was wrong (RFC 3161 §2.4.2), so openssl and Go TSP clients can read why; JSON requests, other
// content types and clients that Accept only JSON get sigstore's JSON error ({code, message}).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  checkTimestampRequest,
  encodeTimestampRejection,
  parseTimestampRequest,
  TIMESTAMP_HASHES,
  type TimestampHash,
  type TimestampRequest,
  TimestampRequestError,
  toPem,
} from '../formats/index.js';
import type { TimestampAuthority } from './authority.js';

export const TIMESTAMP_PATH = '/api/v1/timestamp';
export const CERTCHAIN_PATH = '/api/v1/timestamp/certchain';
const QUERY_TYPE = 'application/timestamp-query';
const REPLY_TYPE = 'application/timestamp-reply';
/** A TimeStampReq is ~60–120 bytes; a generous limit that still refuses anything else early. */
export const DER_REQUEST_LIMIT = 4 * 1024;
/** sigstore's TSA caps JSON requests at 1 KiB (the nonce is the only field that can grow). */
export const JSON_REQUEST_LIMIT = 1024;

interface JsonRequest {
  artifactHash?: unknown;
  hashAlgorithm?: unknown;
  certificates?: unknown;
  nonce?: unknown;
  tsaPolicyOID?: unknown;
}
const JSON_FIELDS = ['artifactHash', 'hashAlgorithm', 'certificates', 'nonce', 'tsaPolicyOID'];

class RequestError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** sigstore's JSON request (pkg/api/timestamp.go JSONRequest), checked field by field. */
export function parseJsonRequest(body: unknown, acceptedPolicies: readonly string[]): TimestampRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new RequestError(400, 'the request must be a JSON object');
  const q = body as JsonRequest;
  for (const k of Object.keys(q))
    if (!JSON_FIELDS.includes(k))
      throw new RequestError(400, `unknown field "${k}" (the request takes ${JSON_FIELDS.join(', ')})`);
  if (typeof q.artifactHash !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(q.artifactHash))
    throw new RequestError(400, 'artifactHash must be the base64 digest of the artifact');
  const alg = typeof q.hashAlgorithm === 'string' ? q.hashAlgorithm.toLowerCase() : undefined;
  if (alg === 'sha1') throw new TimestampRequestError('badAlg', 'hashAlgorithm sha1 is too weak');
  if (!alg || !(alg in TIMESTAMP_HASHES))
    throw new TimestampRequestError('badAlg', 'hashAlgorithm must be sha256, sha384 or sha512');
  if (q.certificates !== undefined && typeof q.certificates !== 'boolean')
    throw new RequestError(400, 'certificates must be true or false');
  if (
    q.tsaPolicyOID !== undefined &&
    (typeof q.tsaPolicyOID !== 'string' || !/^\d+(\.\d+)+$/.test(q.tsaPolicyOID))
  )
    throw new RequestError(400, 'tsaPolicyOID must be a dotted OID');
  let nonce: Buffer | undefined;
  if (q.nonce !== undefined && q.nonce !== null) {
    if (typeof q.nonce !== 'number' || !Number.isSafeInteger(q.nonce) || q.nonce <= 0)
      throw new RequestError(400, 'nonce must be a positive integer');
    nonce = integerContent(BigInt(q.nonce));
  }
  return checkTimestampRequest({
    hashAlgorithm: alg as TimestampHash,
    hashedMessage: Buffer.from(q.artifactHash, 'base64'),
    policy: (q.tsaPolicyOID as string | undefined) || undefined,
    nonce,
    certReq: q.certificates === true,
    extensions: 0,
    acceptedPolicies,
  });
}

/** A positive INTEGER's content octets (with a leading zero when the top bit is set). */
function integerContent(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

function wantsDer(req: FastifyRequest): boolean {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  const accept = String(req.headers.accept ?? '');
  return type === QUERY_TYPE && !(accept.includes('application/json') && !accept.includes(REPLY_TYPE));
}

const isJson = (req: FastifyRequest) =>
  String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase() === 'application/json';

function unsupportedType(req: FastifyRequest): RequestError {
  const type = req.headers['content-type'] ?? 'no content type';
  return new RequestError(415, `send ${QUERY_TYPE} (RFC 3161) or application/json, not ${type}`);
}

function sendJson(reply: FastifyReply, code: number, message: string): FastifyReply {
  return reply.code(code).type('application/json').send({ code, message });
}

function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) {
  const fe = err as FastifyError;
  if (err instanceof TimestampRequestError) {
    if (wantsDer(req))
      return reply.code(400).type(REPLY_TYPE).send(encodeTimestampRejection(err.failure, err.message));
    return sendJson(reply, 400, err.message);
  }
  if (err instanceof RequestError) return sendJson(reply, err.statusCode, err.message);
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = req.routeOptions.bodyLimit;
    return sendJson(reply, 413, `request body is larger than the limit of ${limit} bytes`);
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendJson(reply, 415, unsupportedType(req).message);
  if (err instanceof SyntaxError && fe.statusCode === 400)
    return sendJson(reply, 400, `invalid JSON: ${err.message}`);
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500)
    return sendJson(reply, fe.statusCode, err.message);
  req.log.error({ err }, 'timestamp request failed');
  return sendJson(reply, 500, 'internal error');
}

export async function registerTsaRoutes(app: FastifyInstance, tsa: TimestampAuthority): Promise<void> {
  const chainPem = tsa.certificates.map((c) => toPem(c)).join('');
  await app.register(async (scope) => {
    scope.setErrorHandler(errorHandler);
    scope.addContentTypeParser(
      QUERY_TYPE,
      { parseAs: 'buffer', bodyLimit: DER_REQUEST_LIMIT },
      (_req, body, done) => done(null, body),
    );
    scope.post(TIMESTAMP_PATH, { bodyLimit: DER_REQUEST_LIMIT }, async (req, reply) => {
      let request: TimestampRequest;
      if (Buffer.isBuffer(req.body)) request = await parseTimestampRequest(req.body, tsa.acceptedPolicies);
      else if (!isJson(req)) throw unsupportedType(req);
      else {
        if (Number(req.headers['content-length'] ?? 0) > JSON_REQUEST_LIMIT)
          return sendJson(reply, 413, `a JSON request is limited to ${JSON_REQUEST_LIMIT} bytes`);
        request = parseJsonRequest(req.body, tsa.acceptedPolicies);
      }
      return reply.type(REPLY_TYPE).send(tsa.stamp(request));
    });
    scope.get(CERTCHAIN_PATH, async (_req, reply) =>
      reply.type('application/pem-certificate-chain').header('cache-control', 'no-cache').send(chainPem),
    );
  });
}
