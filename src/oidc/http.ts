// The CI issuer's wire API: OIDC discovery at `<base>/.well-known/openid-configuration`, the JWKS, and GitHub
// Actions' token request (GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=X with `Authorization: bearer
// $ACTIONS_ID_TOKEN_REQUEST_TOKEN` -> {"value": jwt}), so a client written for Actions works unchanged.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type RateLimit, RateLimiter } from '../limits/index.js';
import type { Service } from '../service/index.js';
import {
  type CiIssuer,
  DEFAULT_TOKEN_AUDIENCE,
  DEV_TOKEN_PATH,
  JWKS_PATH,
  OidcError,
  RUNS_PATH,
  type RunContext,
  TOKEN_PATH,
} from './issuer.js';
import type { RunnerIdentity } from './runners.js';

function bearer(header: string | undefined): string | undefined {
  const m = header?.match(/^bearer\s+(\S+)\s*$/i);
  return m?.[1];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function runContext(q: Record<string, unknown>): RunContext {
  return {
    sha: str(q.sha),
    runId: str(q.run_id),
    runNumber: str(q.run_number),
    runAttempt: str(q.run_attempt),
    eventName: str(q.event_name),
  };
}

function sendError(reply: FastifyReply, err: unknown) {
  if (err instanceof OidcError) {
    if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
    return reply.code(err.status).send({ message: err.message });
  }
  throw err;
}

/**
 * Token and run requests per client: 10 a second, 200 at once. A job asks for a token or two per signature; a
 * loop guessing runner secrets, or minting tokens to flood the CA, is refused with 429 and Retry-After.
 */
export const DEFAULT_TOKEN_RATE_LIMIT: RateLimit = { perMinute: 600, burst: 200 };

export async function registerOidcRoutes(
  app: FastifyInstance,
  issuer: CiIssuer,
  rateLimit: RateLimit = DEFAULT_TOKEN_RATE_LIMIT,
): Promise<void> {
  const limiter = new RateLimiter(rateLimit);
  const limited = (req: FastifyRequest) => {
    const wait = limiter.take(req.ip);
    if (wait > 0) {
      const { perMinute, burst } = rateLimit;
      throw new OidcError(
        429,
        `too many token requests from ${req.ip}: the limit is ${perMinute} a minute (${burst} at once)`,
        wait,
      );
    }
  };
  app.get('/.well-known/openid-configuration', async () => issuer.discovery());
  app.get(JWKS_PATH, async () => issuer.jwks());

  app.get(TOKEN_PATH, async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    try {
      limited(req);
      // `audience=a&audience=b` would otherwise fall back to the default audience: a token the job did not ask for.
      if (Array.isArray(q.audience)) throw new OidcError(400, 'audience is given more than once');
      const value = await issuer.tokenForRunner(
        bearer(req.headers.authorization),
        str(q.audience) ?? DEFAULT_TOKEN_AUDIENCE,
        runContext(q),
      );
      return { value };
    } catch (err) {
      return sendError(reply, err);
    }
  });

  // The CI controller starts a run with the runner's secret and hands the job only the run's secret.
  app.post(RUNS_PATH, { bodyLimit: 16 * 1024 }, async (req, reply) => {
    // No body starts a run with the defaults; a body that is not one JSON object (null, a number, an array, text)
    // is a client error, not an empty request.
    const plain = typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body);
    const body = (plain ? req.body : {}) as Record<string, unknown>;
    const unknown = Object.keys(body).filter(
      (k) => !['sha', 'run_id', 'run_number', 'run_attempt', 'event_name', 'ttl_seconds'].includes(k),
    );
    try {
      limited(req);
      if (req.body !== undefined && !plain) throw new OidcError(400, 'the body must be a JSON object');
      if (unknown.length) throw new OidcError(400, `unknown field(s): ${unknown.join(', ')}`);
      for (const k of ['sha', 'run_id', 'run_number', 'run_attempt', 'event_name'])
        if (body[k] !== undefined && typeof body[k] !== 'string')
          throw new OidcError(400, `${k} must be a string`);
      const ttl = body.ttl_seconds;
      if (ttl !== undefined && typeof ttl !== 'number')
        throw new OidcError(400, 'ttl_seconds must be a number');
      const { secret, runner } = await issuer.startRun(
        bearer(req.headers.authorization),
        runContext(body),
        ttl as number | undefined,
      );
      return reply.code(201).send({ runner, value: secret });
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post(DEV_TOKEN_PATH, { bodyLimit: 64 * 1024 }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const identity: RunnerIdentity = {
      repository: str(body.repository) ?? 'dev/dev',
      workflow: str(body.workflow) ?? '.github/workflows/dev.yml',
      ref: str(body.ref) ?? 'refs/heads/main',
      jobWorkflowRef: str(body.jobWorkflowRef),
      environment: str(body.environment),
      runnerEnvironment: str(body.runnerEnvironment),
      repositoryVisibility: str(body.repositoryVisibility),
      sha: str(body.sha) ?? '0'.repeat(40),
    };
    const overrides =
      typeof body.claims === 'object' && body.claims ? (body.claims as Record<string, unknown>) : {};
    try {
      const value = await issuer.devToken(
        identity,
        runContext(body),
        overrides,
        str(body.audience) ?? 'sigstore',
      );
      return { value };
    } catch (err) {
      return sendError(reply, err);
    }
  });
}

/** The issuer as a Service: alone (`sigil serve oidc`) or next to the CA (server/ca-stack.ts). */
export function oidcService(issuer: CiIssuer): Service {
  return {
    name: 'oidc',
    register: (app) => registerOidcRoutes(app, issuer),
    async close() {},
  };
}
