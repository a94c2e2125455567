// Auth on the wire: the Bearer challenge and the checks every endpoint runs (`authorize`, `mayPull`), the API
// version check (end-1) and the token endpoint of the Docker token flow (token.md "Requesting a Token"; oauth.md
// for the POST form). The users, grants and tokens themselves are ../auth.ts's Authority.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type Access,
  ANONYMOUS,
  type Authority,
  allows,
  formatScope,
  parseScope,
  type UserGrant,
} from '../auth.js';
import { RegistryError } from '../errors.js';
import { ChallengeError, many, one, type RouteContext, readLimited } from './common.js';

/** Bodies of token requests are capped at this. */
const SMALL_BODY_LIMIT = 64 * 1024;

function bearer(req: FastifyRequest): string | undefined {
  return req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
}

/** The auth checks of a registry with `authority` (none: anyone may do anything), its realm at `publicUrl`. */
export function authChecks(
  authority: Authority | undefined,
  publicUrl: () => string,
): Pick<RouteContext, 'authorize' | 'mayPull' | 'challenge'> {
  const challenge = (scope?: string, error?: string) =>
    `Bearer realm="${publicUrl()}/v2/token",service="${authority?.service}"` +
    (scope ? `,scope="${scope}"` : '') +
    (error ? `,error="${error}"` : '');
  return {
    challenge,
    // Anonymous requests pass for pulls when the policy allows; everything else needs a bearer token from
    // /v2/token that carries the actions.
    async authorize(req, type, name, actions, asked, alsoAsked = []) {
      if (!authority) return undefined;
      const scope = [formatScope({ type, name, actions: asked ?? actions }), ...alsoAsked].join(' ');
      if (!req.headers.authorization) {
        if (type === 'repository' && authority.policy.anonymousPull && actions.every((a) => a === 'pull')) {
          return undefined;
        }
        throw new ChallengeError('authentication required', challenge(scope), [{ type, name, actions }]);
      }
      const token = bearer(req);
      if (!token) {
        throw new ChallengeError(
          'use a bearer token from the token endpoint',
          challenge(scope, 'invalid_request'),
        );
      }
      const principal = await authority.verify(token);
      if (!principal) {
        throw new ChallengeError('invalid or expired token', challenge(scope, 'invalid_token'));
      }
      if (!allows(principal.access, type, name, actions)) {
        throw new ChallengeError(
          'token does not grant the requested access',
          challenge(scope, 'insufficient_scope'),
          [{ type, name, actions }],
        );
      }
      return principal;
    },
    async mayPull(req, from) {
      if (!authority) return true;
      const token = bearer(req);
      if (!token) return authority.policy.anonymousPull;
      const principal = await authority.verify(token);
      return (
        principal !== undefined &&
        (allows(principal.access, 'repository', from, ['pull']) || authority.policy.anonymousPull)
      );
    },
  };
}

/** `/v2/` (end-1) and `/v2/token`: the fastify routes of the auth group. */
export async function authRoutes(scope: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { authority } = ctx;
  const base = async (req: FastifyRequest, reply: FastifyReply) => {
    if (authority) {
      const token = bearer(req);
      if (!token || !(await authority.verify(token))) {
        throw new ChallengeError('authentication required', ctx.challenge());
      }
    }
    return reply.send({});
  };
  // `/` under the prefix is both /v2 and /v2/ (fastify's prefixTrailingSlash "both").
  scope.route({ method: ['GET', 'HEAD'], url: '/', handler: base });

  scope.route({
    method: ['GET', 'POST'],
    url: '/token',
    handler: async (req, reply) => {
      if (!authority) {
        // Without auth any token works; docker still asks for one if it sees a challenge elsewhere.
        return reply.send({ token: 'anonymous', access_token: 'anonymous', expires_in: 3600 });
      }
      const { user, password, scopes, service } = await tokenRequest(req);
      if (service !== undefined && service !== authority.service) {
        throw new RegistryError('DENIED', `this token service is "${authority.service}"`, { service }, 400);
      }
      let grants: UserGrant[] | undefined;
      if (user !== undefined) {
        grants = await authority.authenticate(user, password ?? '', req.ip);
        if (!grants) {
          reply.header('www-authenticate', `Basic realm="${authority.service}"`);
          throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
        }
      }
      const requested = scopes
        .filter(Boolean)
        .map(parseScope)
        .filter((a): a is Access => a !== undefined);
      const access = authority.grant(requested, grants);
      const { token, expiresIn, issuedAt } = await authority.issue(user ?? ANONYMOUS, access);
      reply.header('cache-control', 'no-store');
      return reply.send({
        token,
        access_token: token,
        expires_in: expiresIn,
        issued_at: issuedAt,
        scope: access.map(formatScope).join(' '),
      });
    },
  });
}

/** A token request's credentials and scopes: an OAuth2 password-grant POST, or a GET with Basic credentials. */
async function tokenRequest(
  req: FastifyRequest,
): Promise<{ user?: string; password?: string; scopes: string[]; service?: string }> {
  if (req.method === 'POST') {
    const form = new URLSearchParams(
      (await readLimited(req, SMALL_BODY_LIMIT, 'token request')).toString('utf8'),
    );
    const grantType = form.get('grant_type');
    if (grantType !== 'password') {
      throw new RegistryError('UNSUPPORTED', 'only grant_type=password is supported', { grantType }, 400);
    }
    return {
      user: form.get('username') ?? undefined,
      password: form.get('password') ?? undefined,
      scopes: (form.get('scope') ?? '').split(' '),
      service: form.get('service') ?? undefined,
    };
  }
  const q = req.query as Record<string, unknown>;
  const scopes = many(q.scope).flatMap((s) => s.split(' '));
  const service = one(q.service);
  const basic = req.headers.authorization?.match(/^Basic\s+(\S+)$/i);
  if (req.headers.authorization && !basic) {
    throw new RegistryError('UNAUTHORIZED', 'the token endpoint takes Basic credentials');
  }
  if (!basic) return { scopes, service };
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new RegistryError('UNAUTHORIZED', 'malformed Basic credentials');
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1), scopes, service };
}
