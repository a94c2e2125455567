// The registry's wire API: distribution-spec v1.1 (`spec.md` "Endpoints" end-1 … end-14, "Error Codes") plus the
// token endpoint of the Docker token flow, mapped onto the engine by one route group per endpoint family: auth.ts
// (/v2/, /v2/token, the checks the others run), blobs.ts, uploads.ts, manifests.ts, tags.ts (tags and catalog),
// referrers.ts. This file composes them in one encapsulated fastify scope under /v2/, so that its catch-all body
// parser (request bodies stay unread streams: blobs are streamed to storage, never buffered), its error handler
// and its not-found handler do not touch other services on a shared server.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authority } from '../auth.js';
import type { Registry } from '../engine.js';
import { RegistryError } from '../errors.js';
import { authChecks, authRoutes } from './auth.js';
import { blobs } from './blobs.js';
import { API_VERSION_HEADER, decodePart, type Endpoint, type RouteContext, sendError } from './common.js';
import { manifests } from './manifests.js';
import { referrers } from './referrers.js';
import { catalog, tags } from './tags.js';
import { uploadSession, uploadStart } from './uploads.js';

export interface RegistryHttpOptions {
  registry: Registry;
  /** Checks credentials and tokens; undefined lets anyone push (`--anonymous-push`, local tests only). */
  authority?: Authority;
  /** Base URL clients reach the server at (for the token realm). */
  publicUrl: () => string;
}

/** Ordered: `<name>/blobs/uploads/` must win over a blob whose "digest" is `uploads`. */
const ENDPOINTS: Endpoint[] = [catalog, tags, manifests, uploadStart, uploadSession, blobs, referrers];

/**
 * The endpoint a path after `/v2/` names, with its parts percent-decoded (undefined when it names none). Matched
 * on the raw path so that a malformed escape is blamed on the part it is in; names are validated by the
 * endpoints (NAME_INVALID). Encoded slashes (`%2F`) in a name are decoded like the rest: `a%2Fb` is `a/b`.
 */
export function parseRoute(rawPath: string): { endpoint: Endpoint; parts: string[] } | undefined {
  for (const endpoint of ENDPOINTS) {
    const m = rawPath.match(endpoint.path);
    if (m) return { endpoint, parts: endpoint.parts.map((code, i) => decodePart(m[i + 1], code)) };
  }
  return undefined;
}

/** Whether a path (with its query) is the registry's: `/v2` and everything under `/v2/`. */
export function isRegistryPath(url: string): boolean {
  const path = url.split('?')[0];
  return path === '/v2' || path.startsWith('/v2/');
}

/**
 * The registry's answer to a request the router refused before any route ran (fastify's `frameworkErrors`: a path
 * whose percent-encoding does not decode). Returns false for paths that are not the registry's.
 */
export function answerFrameworkError(req: FastifyRequest, reply: FastifyReply): boolean {
  if (!isRegistryPath(req.raw.url ?? '')) return false;
  let err = new RegistryError('NAME_INVALID', 'malformed percent-encoding in path');
  try {
    parseRoute((req.raw.url ?? '').slice('/v2/'.length).split('?')[0]);
  } catch (e) {
    if (e instanceof RegistryError) err = e;
  }
  sendError(req, reply, err);
  return true;
}

export async function registerRegistryRoutes(app: FastifyInstance, opts: RegistryHttpOptions): Promise<void> {
  const ctx: RouteContext = {
    registry: opts.registry,
    authority: opts.authority,
    ...authChecks(opts.authority, opts.publicUrl),
  };
  // Everything under the /v2 prefix, so that the not-found handler below answers only the registry's paths.
  await app.register(
    async (scope) => {
      // Request bodies are handed to handlers as the raw stream, whatever their Content-Type: manifests must be
      // stored byte for byte, blobs streamed to storage.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

      scope.addHook('onRequest', async (_req, reply) => {
        reply.headers(API_VERSION_HEADER);
      });

      scope.setErrorHandler((err, req, reply) => {
        if (err instanceof RegistryError) return sendError(req, reply, err);
        const status = (err as { statusCode?: number }).statusCode;
        if (status !== undefined && status >= 400 && status < 500) {
          return sendError(
            req,
            reply,
            new RegistryError('UNSUPPORTED', (err as Error).message, undefined, status),
          );
        }
        req.log.error({ err }, 'registry request failed');
        return reply.code(500).send({ errors: [{ code: 'UNKNOWN', message: 'internal error' }] });
      });

      // Methods no route has (OPTIONS, TRACE, WebDAV…) on any registry path: the spec's error format, not fastify's.
      scope.setNotFoundHandler((req, reply) =>
        sendError(
          req,
          reply,
          new RegistryError(
            'UNSUPPORTED',
            `${req.method} is not supported here`,
            { method: req.method },
            405,
          ),
        ),
      );

      await authRoutes(scope, ctx);

      scope.route({
        method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        url: '/*',
        handler: async (req, reply) => {
          const route = parseRoute(req.url.slice('/v2/'.length).split('?')[0]);
          if (!route) {
            // Nothing is known at a path that names no endpoint: the spec's code for "not here" is NAME_UNKNOWN.
            throw new RegistryError('NAME_UNKNOWN', 'no such registry endpoint', {
              path: req.url.split('?')[0].slice(0, 300),
            });
          }
          return route.endpoint.handle(ctx, req, reply, route.parts);
        },
      });
    },
    { prefix: '/v2' },
  );
}
