// Fulcio's wire API over HTTP/JSON (fulcio.proto's google.api.http mapping, protojson field names): POST
// /api/v2/signingCert, GET /api/v2/trustBundle, GET /api/v2/configuration, and the legacy POST
// /api/v1/signingCert + GET /api/v1/rootCert (pkg/server/legacy_server.go) that older clients use.
//
// The signing routes take the body as text and leave parsing to whoever answers it (answer.ts), usually an issue
// worker thread: the main thread, which serves every connection, does no JSON work for them.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { closeAfterResponse, type RateLimit, RateLimiter } from '../limits/index.js';
import { answerSigningRequest, errorAnswer, PEM_CHAIN } from './answer.js';
import type { CertificateAuthority } from './authority.js';
import { CaError } from './errors.js';
import { challengeClaim, type IssuerConfig } from './identity.js';
import type { PreparedAnswer, SigningApi } from './request.js';

/** A signing request is a token, a key and a signature: a few KiB. */
const SIGNING_BODY_LIMIT = 64 * 1024;

function bearer(req: FastifyRequest): string | undefined {
  return req.headers.authorization?.match(/^bearer\s+(\S+)\s*$/i)?.[1];
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
  limiter: RateLimiter | undefined,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  // Each request costs a token verification and two signatures: a client past its limit is refused first.
  const wait = limiter?.take(req.ip) ?? 0;
  if (wait > 0) {
    const { perMinute, burst } = (limiter as RateLimiter).limit;
    const refused = errorAnswer(
      429,
      `too many signing requests from ${req.ip}: the limit is ${perMinute} a minute (${burst} at once); retry in ${wait} s`,
    );
    return reply.code(429).header('retry-after', String(wait)).type(refused.contentType).send(refused.body);
  }
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
  rateLimit?: RateLimit,
): Promise<void> {
  const limiter = rateLimit ? new RateLimiter(rateLimit) : undefined;
  // Its own encapsulated scope: the raw-text JSON parser must not apply to other services' routes.
  await app.register(async (scope) => {
    // A body over the limit: a 413 naming the limit, in the CA's error format, that reaches a client still sending
    // (the rest is not read, and the connection is closed in stages after the answer). Anything else goes on to
    // the server's handler.
    scope.setErrorHandler((err: FastifyError, req, reply) => {
      if (err.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw err;
      if (!req.raw.complete) {
        reply.header('connection', 'close');
        closeAfterResponse(req.raw);
      }
      const refused = errorAnswer(413, `request body is too large: the limit is ${SIGNING_BODY_LIMIT} bytes`);
      return reply.code(413).type(refused.contentType).send(refused.body);
    });
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
    scope.post('/api/v2/signingCert', { bodyLimit: SIGNING_BODY_LIMIT }, (req, reply) =>
      signingRoute(ca, 'v2', limiter, req, reply),
    );
    scope.post('/api/v1/signingCert', { bodyLimit: SIGNING_BODY_LIMIT }, (req, reply) =>
      signingRoute(ca, 'v1', limiter, req, reply),
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
