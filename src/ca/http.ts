// Fulcio's wire API over HTTP/JSON (fulcio.proto's google.api.http mapping, protojson field names): POST
// /api/v2/signingCert, GET /api/v2/trustBundle, GET /api/v2/configuration, and the legacy POST
// /api/v1/signingCert + GET /api/v1/rootCert (pkg/server/legacy_server.go) that older clients use.
//
// The signing routes take the body as text and leave parsing to whoever answers it (answer.ts), usually an issue
// worker thread: the main thread, which serves every connection, does no JSON work for them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  answerSigningRequest,
  errorAnswer,
  PEM_CHAIN,
  type PreparedAnswer,
  type SigningApi,
} from './answer.js';
import type { CertificateAuthority, SigningRequest } from './authority.js';
import { CaError } from './errors.js';
import { challengeClaim, type IssuerConfig } from './identity.js';

/** A signing request is a token, a key and a signature: a few KiB. */
const SIGNING_BODY_LIMIT = 64 * 1024;

function bearer(req: FastifyRequest): string | undefined {
  return req.headers.authorization?.match(/^bearer\s+(\S+)\s*$/i)?.[1];
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

/** fulcio.proto Configuration / OIDCIssuer. */
export function configurationJson(issuers: IssuerConfig[]) {
  return {
    issuers: issuers.map((i) => ({
      issuerUrl: i.issuerUrl,
      audience: i.clientId,
      challengeClaim: challengeClaim(i.type),
      issuerType: i.type,
      ...(i.subjectDomain ? { subjectDomain: i.subjectDomain } : {}),
      ...(i.skipEmailVerification ? { skipEmailVerification: true } : {}),
    })),
  };
}

/** Answers a signing request; a certificate goes out only once its CT entry is durable. */
async function signingRoute(
  ca: CertificateAuthority,
  api: SigningApi,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const input = { api, body: req.body as string | undefined, bearer: bearer(req) };
  let answer: PreparedAnswer = await (ca.preparer?.answer(input) ?? answerSigningRequest(ca, input));
  if (answer.ctRecord) {
    try {
      await ca.record(answer.ctRecord);
    } catch (err) {
      if (!(err instanceof CaError)) throw err;
      answer = errorAnswer(err.status, err.message, err.retryAfterSeconds);
    }
  }
  if (answer.retryAfter !== undefined) reply.header('retry-after', String(answer.retryAfter));
  // A string body with its content type set goes out as it is (no fastify serialization).
  return reply.code(answer.status).type(answer.contentType).send(answer.body);
}

export async function registerCaRoutes(
  app: FastifyInstance,
  ca: CertificateAuthority,
  issuers: () => IssuerConfig[],
): Promise<void> {
  // Its own encapsulated scope: the raw-text JSON parser must not apply to other services' routes.
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
    scope.post('/api/v2/signingCert', { bodyLimit: SIGNING_BODY_LIMIT }, (req, reply) =>
      signingRoute(ca, 'v2', req, reply),
    );
    scope.post('/api/v1/signingCert', { bodyLimit: SIGNING_BODY_LIMIT }, (req, reply) =>
      signingRoute(ca, 'v1', req, reply),
    );
  });

  app.get('/api/v2/trustBundle', async () => ({
    chains: ca.trustBundle().map((certificates) => ({ certificates })),
  }));

  app.get('/api/v2/configuration', async () => configurationJson(issuers()));

  app.get('/api/v1/rootCert', async (_req, reply) =>
    reply.type(PEM_CHAIN).send(ca.trustBundle().flat().join('\n')),
  );
}
