// The registry's wire API: distribution-spec v1.1 (`spec.md` "Endpoints" end-1 … end-14, "Error Codes") plus
// the token endpoint of the Docker token flow, mapped onto the engine. Everything lives in one encapsulated
// fastify scope under /v2/, so its catch-all body parser (request bodies stay unread streams: blobs are streamed
// to disk, never buffered) and error handler do not touch other services on a shared server. Repository names
// contain slashes, so `/v2/*` is parsed here against the spec's grammar rather than by the router.
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type Access,
  ANONYMOUS,
  type Authority,
  allows,
  formatScope,
  type Principal,
  parseScope,
  type UserGrant,
} from './auth.js';
import type { ChunkRange } from './blobstore.js';
import type { Page, Registry } from './engine.js';
import { RegistryError, TooManyRequestsError } from './errors.js';
import { bodyChunks } from './files.js';
import { closeAfterResponse } from './linger.js';
import { MAX_MANIFEST_BYTES, OCI_INDEX } from './manifests.js';
import {
  assertName,
  isDigestAlgorithm,
  isValidTag,
  type ParsedDigest,
  parseDigest,
  parseReference,
  type Reference,
} from './names.js';

export interface RegistryHttpOptions {
  registry: Registry;
  /** Checks credentials and tokens; undefined lets anyone push (`--anonymous-push`, local tests only). */
  authority?: Authority;
  /** Base URL clients reach the server at (for the token realm). */
  publicUrl: () => string;
}

const API_VERSION_HEADER = { 'docker-distribution-api-version': 'registry/2.0' };
/** Bodies of small requests (token form, drained leftovers) are capped at this. */
const SMALL_BODY_LIMIT = 64 * 1024;
/** Blob reads: READ_RING buffers of READ_CHUNK_BYTES, reused for the whole response (measured on loopback). */
const READ_CHUNK_BYTES = 1024 * 1024;
const READ_RING = 3;

type Route =
  | { kind: 'catalog' }
  | { kind: 'manifest'; name: string; ref: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'tags'; name: string }
  | { kind: 'referrers'; name: string; digest: string };

/**
 * Ordered: `<name>/blobs/uploads/` must win over a blob whose "digest" is `uploads`. Matched against the raw path
 * (each part is percent-decoded after), so that a malformed escape is blamed on the part it is in.
 */
const ROUTES: [RegExp, (m: RegExpMatchArray) => Route][] = [
  [/^_catalog$/, () => ({ kind: 'catalog' })],
  [/^(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: name(m[1]) })],
  [
    /^(.+)\/manifests\/([^/]+)$/,
    (m) => ({ kind: 'manifest', name: name(m[1]), ref: part(m[2], 'MANIFEST_INVALID') }),
  ],
  [/^(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: name(m[1]) })],
  [
    /^(.+)\/blobs\/uploads\/([^/]+)$/,
    (m) => ({ kind: 'upload', name: name(m[1]), id: part(m[2], 'BLOB_UPLOAD_UNKNOWN') }),
  ],
  [
    /^(.+)\/blobs\/([^/]+)$/,
    (m) => ({ kind: 'blob', name: name(m[1]), digest: part(m[2], 'DIGEST_INVALID') }),
  ],
  [
    /^(.+)\/referrers\/([^/]+)$/,
    (m) => ({ kind: 'referrers', name: name(m[1]), digest: part(m[2], 'DIGEST_INVALID') }),
  ],
];

/** Percent-decodes one part of the path; a malformed escape is that part's error (400, or 404 for an upload id). */
function part(
  raw: string,
  code: 'NAME_INVALID' | 'MANIFEST_INVALID' | 'DIGEST_INVALID' | 'BLOB_UPLOAD_UNKNOWN',
): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new RegistryError(code, 'malformed percent-encoding in path', { part: raw.slice(0, 300) });
  }
}

const name = (raw: string) => part(raw, 'NAME_INVALID');

/**
 * Parses the path after `/v2/` into a route; names are validated by the handlers (NAME_INVALID). A path naming no
 * endpoint is undefined. Encoded slashes (`%2F`) in a name are decoded like the rest: `a%2Fb` is `a/b`.
 */
export function parseRoute(rawPath: string): Route | undefined {
  for (const [re, build] of ROUTES) {
    const m = rawPath.match(re);
    if (m) return build(m);
  }
  return undefined;
}

/** A 401 carrying the Bearer challenge (token.md "How to authenticate"; RFC 6750 §3). */
class ChallengeError extends RegistryError {
  constructor(
    message: string,
    readonly challenge: string,
    detail?: unknown,
  ) {
    super('UNAUTHORIZED', message, detail);
  }
}

function one(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length > 0 ? String(value[value.length - 1]) : undefined;
  return typeof value === 'string' ? value : undefined;
}

function many(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' ? [value] : [];
}

function hasBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function bodyStream(req: FastifyRequest): Readable {
  return (req.body as Readable | undefined) ?? req.raw;
}

function contentLength(req: FastifyRequest): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** `Content-Range: <start>-<end>` of a chunk (spec: `^[0-9]+-[0-9]+$`; docker's `bytes=` prefix tolerated). */
export function parseContentRange(value: string | undefined): ChunkRange | undefined {
  if (value === undefined) return undefined;
  const m = value.trim().match(/^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d{1,15}|\*))?$/);
  if (!m) {
    // 416 as for a chunk out of order (spec "Pushing a blob in chunks"): the range cannot be satisfied, and the
    // client's way on is the same, `GET <location>` for what the session holds.
    throw new RegistryError(
      'BLOB_UPLOAD_INVALID',
      'Content-Range must be <start>-<end>',
      { contentRange: value.slice(0, 200) },
      416,
    );
  }
  const range = { start: Number(m[1]), end: Number(m[2]) };
  if (range.end < range.start) {
    throw new RegistryError(
      'BLOB_UPLOAD_INVALID',
      'Content-Range ends before it starts',
      { contentRange: value },
      416,
    );
  }
  return range;
}

/** A single `Range: bytes=…` request (RFC 9110 §14.1.2); undefined means "serve the whole blob". */
export function parseRange(
  value: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!value) return undefined;
  const m = value.trim().match(/^bytes=(\d*)-(\d*)$/);
  // Multiple ranges and syntax this server does not recognize are ignored, as RFC 9110 §14.2 allows.
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** Reads a small request body fully, refusing more than `limit` bytes (413 naming the limit). */
async function readLimited(req: FastifyRequest, limit: number, what: string): Promise<Buffer> {
  const declared = contentLength(req);
  const tooLarge = () =>
    new RegistryError(
      what === 'manifest' ? 'SIZE_INVALID' : 'UNSUPPORTED',
      `${what} is larger than the ${limit}-byte limit`,
      { limit },
      413,
    );
  if (declared !== undefined && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of bodyChunks(bodyStream(req))) {
    total += chunk.length;
    if (total > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function uploadHeaders(name: string, id: string, size: number): Record<string, string> {
  return {
    location: `/v2/${name}/blobs/uploads/${id}`,
    // distribution's convention: "0-0" for an empty session, else the last byte received.
    range: `0-${Math.max(0, size - 1)}`,
    'docker-upload-uuid': id,
  };
}

function pageLink(path: string, n: number | undefined, page: Page<string>): string | undefined {
  if (page.next === undefined) return undefined;
  const params = new URLSearchParams();
  if (n !== undefined) params.set('n', String(n));
  params.set('last', page.next);
  return `<${path}?${params.toString()}>; rel="next"`;
}

function parseN(value: unknown): number | undefined {
  const s = one(value);
  if (s === undefined) return undefined;
  if (!/^\d{1,9}$/.test(s)) {
    throw new RegistryError('UNSUPPORTED', 'n must be a non-negative integer', { n: s }, 400);
  }
  return Number(s);
}

/** Sends a registry error in the spec's format; a request whose body is still unread is closed in stages after. */
function sendError(req: FastifyRequest, reply: FastifyReply, err: RegistryError): FastifyReply {
  if (err instanceof ChallengeError) reply.header('www-authenticate', err.challenge);
  if (err instanceof TooManyRequestsError) reply.header('retry-after', String(err.retryAfterSeconds));
  if (hasBody(req) && !req.raw.complete) {
    // The body was not (fully) read: answer, then close the connection in stages rather than read the rest of
    // it (a body past a limit may be gigabytes), so that the answer reaches the client (linger.ts).
    reply.header('connection', 'close');
    closeAfterResponse(req.raw);
  }
  return reply.code(err.status).headers(API_VERSION_HEADER).send(err.toJSON());
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
  // Everything under the /v2 prefix, so that the not-found handler below answers only the registry's paths.
  await app.register(
    async (scope) => {
      const { registry, authority } = opts;

      // Request bodies are handed to handlers as the raw stream, whatever their Content-Type: manifests must be
      // stored byte for byte, blobs streamed to disk.
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

      // ── auth ──

      const realm = () => `${opts.publicUrl()}/v2/token`;
      const challenge = (scopeStr?: string, error?: string) =>
        `Bearer realm="${realm()}",service="${authority?.service}"` +
        (scopeStr ? `,scope="${scopeStr}"` : '') +
        (error ? `,error="${error}"` : '');

      /**
       * Checks that the request may perform `actions` on `type:name`. Anonymous requests pass for pulls when the
       * policy allows; everything else needs a bearer token from /v2/token that carries the actions. Returns whom
       * the token speaks for (undefined without auth or for an anonymous pull).
       */
      async function authorize(
        req: FastifyRequest,
        type: Access['type'],
        name: string,
        actions: string[],
        asked?: string[],
        alsoAsked: string[] = [],
      ): Promise<Principal | undefined> {
        if (!authority) return undefined;
        const scopeStr = [formatScope({ type, name, actions: asked ?? actions }), ...alsoAsked].join(' ');
        const header = req.headers.authorization;
        if (!header) {
          if (type === 'repository' && authority.policy.anonymousPull && actions.every((a) => a === 'pull')) {
            return undefined;
          }
          throw new ChallengeError('authentication required', challenge(scopeStr), [{ type, name, actions }]);
        }
        const m = header.match(/^Bearer\s+(\S+)$/i);
        if (!m) {
          throw new ChallengeError(
            'use a bearer token from the token endpoint',
            challenge(scopeStr, 'invalid_request'),
          );
        }
        const principal = await authority.verify(m[1]);
        if (!principal) {
          throw new ChallengeError('invalid or expired token', challenge(scopeStr, 'invalid_token'));
        }
        if (!allows(principal.access, type, name, actions)) {
          throw new ChallengeError(
            'token does not grant the requested access',
            challenge(scopeStr, 'insufficient_scope'),
            [{ type, name, actions }],
          );
        }
        return principal;
      }

      /** Whether a request's own token (already verified) also allows pulling `from` (for mounts). */
      async function mayPull(req: FastifyRequest, from: string): Promise<boolean> {
        if (!authority) return true;
        const header = req.headers.authorization;
        const m = header?.match(/^Bearer\s+(\S+)$/i);
        if (!m) return authority.policy.anonymousPull;
        const principal = await authority.verify(m[1]);
        return (
          principal !== undefined &&
          (allows(principal.access, 'repository', from, ['pull']) || authority.policy.anonymousPull)
        );
      }

      // ── end-1: API version check ──

      const base = async (req: FastifyRequest, reply: FastifyReply) => {
        if (authority) {
          const m = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i);
          if (!m || !(await authority.verify(m[1]))) {
            throw new ChallengeError('authentication required', challenge());
          }
        }
        return reply.send({});
      };
      // `/` under the prefix is both /v2 and /v2/ (fastify's prefixTrailingSlash "both").
      scope.route({ method: ['GET', 'HEAD'], url: '/', handler: base });

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

      // ── token endpoint (token.md "Requesting a Token"; oauth.md for the POST form) ──

      scope.route({
        method: ['GET', 'POST'],
        url: '/token',
        handler: async (req, reply) => {
          if (!authority) {
            // Without auth any token works; docker still asks for one if it sees a challenge elsewhere.
            return reply.send({ token: 'anonymous', access_token: 'anonymous', expires_in: 3600 });
          }
          let user: string | undefined;
          let password: string | undefined;
          let scopes: string[];
          let service: string | undefined;
          if (req.method === 'POST') {
            const form = new URLSearchParams(
              (await readLimited(req, SMALL_BODY_LIMIT, 'token request')).toString('utf8'),
            );
            const grantType = form.get('grant_type');
            if (grantType !== 'password') {
              throw new RegistryError(
                'UNSUPPORTED',
                'only grant_type=password is supported',
                { grantType },
                400,
              );
            }
            user = form.get('username') ?? undefined;
            password = form.get('password') ?? undefined;
            scopes = (form.get('scope') ?? '').split(' ');
            service = form.get('service') ?? undefined;
          } else {
            const q = req.query as Record<string, unknown>;
            scopes = many(q.scope).flatMap((s) => s.split(' '));
            service = one(q.service);
            const basic = req.headers.authorization?.match(/^Basic\s+(\S+)$/i);
            if (req.headers.authorization && !basic) {
              throw new RegistryError('UNAUTHORIZED', 'the token endpoint takes Basic credentials');
            }
            if (basic) {
              const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
              const colon = decoded.indexOf(':');
              if (colon < 0) throw new RegistryError('UNAUTHORIZED', 'malformed Basic credentials');
              user = decoded.slice(0, colon);
              password = decoded.slice(colon + 1);
            }
          }
          if (service !== undefined && service !== authority.service) {
            throw new RegistryError(
              'DENIED',
              `this token service is "${authority.service}"`,
              { service },
              400,
            );
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

      // ── everything else under /v2/ ──

      scope.route({
        method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        url: '/*',
        handler: async (req, reply) => {
          const rawPath = req.url.slice('/v2/'.length).split('?')[0];
          const route = parseRoute(rawPath);
          if (!route) {
            // Nothing is known at a path that names no endpoint: the spec's code for "not here" is NAME_UNKNOWN.
            throw new RegistryError('NAME_UNKNOWN', 'no such registry endpoint', {
              path: req.url.split('?')[0].slice(0, 300),
            });
          }
          const method = req.method;
          const q = req.query as Record<string, unknown>;
          const unsupported = () =>
            new RegistryError('UNSUPPORTED', `${method} is not supported here`, undefined, 405);

          if (route.kind === 'catalog') {
            if (method !== 'GET') throw unsupported();
            await authorize(req, 'registry', 'catalog', ['*']);
            const n = parseN(q.n);
            const last = one(q.last) ?? '';
            const page = registry.catalog(n, last);
            const link = pageLink('/v2/_catalog', n, page);
            if (link) reply.header('link', link);
            return reply.send({ repositories: page.items });
          }

          const name = assertName(route.name);
          switch (route.kind) {
            case 'manifest': {
              let ref: Reference;
              try {
                ref = parseReference(route.ref);
              } catch (err) {
                // A tag outside the grammar names nothing, so pulling or deleting it is "not found" (spec "Pulling
                // manifests": 404, the only failure end-3 lists); only a push is told its tag is invalid.
                if (method !== 'PUT' && err instanceof RegistryError && err.code === 'MANIFEST_INVALID') {
                  throw new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown to registry', {
                    reference: route.ref.slice(0, 200),
                  });
                }
                throw err;
              }
              if (method === 'GET' || method === 'HEAD') {
                await authorize(req, 'repository', name, ['pull']);
                const m = registry.getManifest(name, ref);
                const etag = `"${m.digest}"`;
                const headers = {
                  ...API_VERSION_HEADER,
                  'content-type': m.mediaType,
                  'content-length': String(m.content.length),
                  'docker-content-digest': m.digest,
                  etag,
                };
                // Hot path: write straight to the socket, skipping fastify's serialization.
                reply.hijack();
                if (req.headers['if-none-match'] === etag) {
                  reply.raw
                    .writeHead(304, { etag, 'docker-content-digest': m.digest, ...API_VERSION_HEADER })
                    .end();
                } else {
                  reply.raw.writeHead(200, headers).end(method === 'HEAD' ? undefined : m.content);
                }
                return;
              }
              if (method === 'PUT') {
                await authorize(req, 'repository', name, ['push'], ['pull', 'push']);
                const content = await readLimited(req, MAX_MANIFEST_BYTES, 'manifest');
                const extraTags = many(q.tag);
                const result = registry.putManifest(
                  name,
                  ref,
                  content,
                  req.headers['content-type'],
                  extraTags,
                );
                reply.code(201).headers({
                  location: `/v2/${name}/manifests/${result.digest}`,
                  'docker-content-digest': result.digest,
                  'content-length': '0',
                });
                if (result.subject) reply.header('oci-subject', result.subject);
                if (extraTags.length > 0) reply.header('oci-tag', result.tags.join(', '));
                return reply.send();
              }
              if (method === 'DELETE') {
                await authorize(req, 'repository', name, ['delete']);
                registry.deleteManifest(name, ref);
                return reply.code(202).header('content-length', '0').send();
              }
              throw unsupported();
            }

            case 'blob': {
              const digest = parseDigest(route.digest);
              if (method === 'GET' || method === 'HEAD') {
                await authorize(req, 'repository', name, ['pull']);
                return sendBlob(req, reply, registry, name, digest);
              }
              if (method === 'DELETE') {
                await authorize(req, 'repository', name, ['delete']);
                registry.deleteBlob(name, digest);
                return reply.code(202).header('content-length', '0').send();
              }
              throw unsupported();
            }

            case 'uploads': {
              if (method !== 'POST') throw unsupported();
              const mount = one(q.mount);
              const from = one(q.from);
              const source = mount !== undefined && from !== undefined ? assertName(from) : undefined;
              // A mount also reads the source: the challenge asks for pull there too (as distribution's does), so
              // that a client which asks only for what a challenge names (and retries once) can mount.
              const sourceScope =
                source === undefined
                  ? []
                  : [formatScope({ type: 'repository', name: source, actions: ['pull'] })];
              const principal = await authorize(
                req,
                'repository',
                name,
                ['push'],
                ['pull', 'push'],
                sourceScope,
              );
              if (mount !== undefined && source !== undefined) {
                const digest = parseDigest(mount);
                const canPull = await mayPull(req, source);
                if (
                  !canPull &&
                  authority &&
                  principal &&
                  (await authority.holds(principal.subject, source, 'pull'))
                ) {
                  // The user may pull the source but this token does not say so (clients that ask only for what a
                  // challenge names): ask for both, as distribution does for a mount, rather than have them upload
                  // what they could mount. A user without pull on the source never sees this challenge.
                  const scopes = [
                    formatScope({ type: 'repository', name, actions: ['pull', 'push'] }),
                    ...sourceScope,
                  ];
                  throw new ChallengeError(
                    'mounting needs pull access to the source repository',
                    challenge(scopes.join(' '), 'insufficient_scope'),
                    [{ type: 'repository', name: source, actions: ['pull'] }],
                  );
                }
                // Mounting reveals `from`'s content, so the caller must be able to pull it; if not, or if `from`
                // lacks the blob, the spec's fallback is an ordinary upload session (202).
                if (canPull && (await registry.mountBlob(name, source, digest))) {
                  return reply
                    .code(201)
                    .headers({
                      location: `/v2/${name}/blobs/${digest.digest}`,
                      'docker-content-digest': digest.digest,
                      'content-length': '0',
                    })
                    .send();
                }
              }
              const digestParam = one(q.digest);
              const algorithmParam = one(q['digest-algorithm']);
              let algorithm: 'sha256' | 'sha512' = 'sha256';
              if (algorithmParam !== undefined) {
                if (!isDigestAlgorithm(algorithmParam)) {
                  throw new RegistryError(
                    'DIGEST_INVALID',
                    `unsupported digest algorithm "${algorithmParam}"`,
                    { algorithm: algorithmParam },
                  );
                }
                algorithm = algorithmParam;
              }
              const digest = digestParam === undefined ? undefined : parseDigest(digestParam);
              if (digest) algorithm = digest.algorithm;
              const owner = principal?.subject;
              const upload = await registry.startUpload(name, algorithm, owner);
              if (digest) {
                // Single-POST monolithic upload (end-4b).
                const done = await registry.completeUpload(
                  { repo: name, id: upload.id, owner },
                  digest,
                  bodyStream(req),
                  undefined,
                  contentLength(req),
                );
                return reply
                  .code(201)
                  .headers({
                    location: `/v2/${name}/blobs/${done.digest}`,
                    'docker-content-digest': done.digest,
                    'content-length': '0',
                  })
                  .send();
              }
              return reply
                .code(202)
                .headers({ ...uploadHeaders(name, upload.id, 0), 'content-length': '0' })
                .send();
            }

            case 'upload': {
              const principal = await authorize(req, 'repository', name, ['push'], ['pull', 'push']);
              const id = route.id;
              const upload = { repo: name, id, owner: principal?.subject };
              if (method === 'GET') {
                const state = await registry.uploadStatus(upload);
                return reply
                  .code(204)
                  .headers(uploadHeaders(name, id, state.size))
                  .send();
              }
              if (method === 'PATCH') {
                const range = parseContentRange(req.headers['content-range']);
                const state = await registry.appendUpload(upload, bodyStream(req), range, contentLength(req));
                return reply
                  .code(202)
                  .headers({ ...uploadHeaders(name, id, state.size), 'content-length': '0' })
                  .send();
              }
              if (method === 'PUT') {
                const digestParam = one(q.digest);
                if (digestParam === undefined) {
                  throw new RegistryError(
                    'DIGEST_INVALID',
                    'the closing PUT needs ?digest=<digest of the whole blob>',
                  );
                }
                const digest = parseDigest(digestParam);
                const range = parseContentRange(req.headers['content-range']);
                const body = hasBody(req) ? bodyStream(req) : undefined;
                const done = await registry.completeUpload(
                  upload,
                  digest,
                  body,
                  range,
                  body ? contentLength(req) : undefined,
                );
                return reply
                  .code(201)
                  .headers({
                    location: `/v2/${name}/blobs/${done.digest}`,
                    'docker-content-digest': done.digest,
                    'content-length': '0',
                  })
                  .send();
              }
              if (method === 'DELETE') {
                await registry.cancelUpload(upload);
                return reply.code(204).send();
              }
              throw unsupported();
            }

            case 'tags': {
              if (method !== 'GET') throw unsupported();
              await authorize(req, 'repository', name, ['pull']);
              const n = parseN(q.n);
              const last = one(q.last) ?? '';
              if (last !== '' && !isValidTag(last)) {
                throw new RegistryError('UNSUPPORTED', 'last must be a tag', { last }, 400);
              }
              const page = registry.listTags(name, n, last);
              const link = pageLink(`/v2/${name}/tags/list`, n, page);
              if (link) reply.header('link', link);
              return reply.send({ name, tags: page.items });
            }

            case 'referrers': {
              if (method !== 'GET') throw unsupported();
              await authorize(req, 'repository', name, ['pull']);
              const digest = parseDigest(route.digest);
              const artifactType = one(q.artifactType);
              const manifests = registry.referrers(name, digest, artifactType);
              if (artifactType !== undefined) reply.header('oci-filters-applied', 'artifactType');
              // Sent as bytes so that no charset parameter is appended: the spec wants exactly this media type.
              return reply
                .header('content-type', OCI_INDEX)
                .send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })));
            }
          }
        },
      });
    },
    { prefix: '/v2' },
  );
}

/**
 * Copies bytes [start, end] of a file to the response through a ring of reused buffers: several reads are in
 * flight on the thread pool while the socket takes the previous chunk, and no per-chunk allocation (or
 * page-faulting of fresh memory) happens. A buffer is refilled only after the socket has taken its previous
 * contents (the write callback), so a slow client holds at most READ_RING × READ_CHUNK_BYTES of memory.
 */
async function pump(fh: FileHandle, res: ServerResponse, start: number, end: number): Promise<void> {
  const ring = Array.from({ length: READ_RING }, () => Buffer.allocUnsafeSlow(READ_CHUNK_BYTES));
  const reads: { done: Promise<{ bytesRead: number }>; buffer: Buffer; length: number }[] = [];
  let next = start;
  let slot = 0;
  const issue = () => {
    const buffer = ring[slot++ % READ_RING];
    const length = Math.min(READ_CHUNK_BYTES, end - next + 1);
    reads.push({ done: fh.read(buffer, 0, length, next), buffer, length });
    next += length;
  };
  // One buffer stays free for the write in flight.
  while (reads.length < READ_RING - 1 && next <= end) issue();
  let written: Promise<void> = Promise.resolve();
  try {
    while (reads.length > 0) {
      const read = reads.shift()!;
      const { bytesRead } = await read.done;
      if (bytesRead !== read.length) throw new Error('blob file shorter than expected');
      await written;
      if (res.destroyed) throw new Error('client closed the connection');
      const chunk = read.buffer.subarray(0, bytesRead);
      written = new Promise((resolve, reject) => res.write(chunk, (err) => (err ? reject(err) : resolve())));
      // The write may fail (client hung up) while we wait on the next read; mark the rejection handled now so it
      // is not an unhandled rejection (fatal in Node), and still surface it at the `await written` above.
      written.catch(() => {});
      // The buffer just freed by the finished write is the next one in the ring.
      if (next <= end) issue();
    }
    await written;
  } finally {
    // Reads still in flight must settle before the caller closes the file.
    await Promise.allSettled(reads.map((r) => r.done));
  }
  await new Promise<void>((resolve) => res.end(resolve));
}

/** GET/HEAD of a blob with Range support, streamed from the file (never read whole into memory). */
async function sendBlob(
  req: FastifyRequest,
  reply: FastifyReply,
  registry: Registry,
  name: string,
  digest: ParsedDigest,
): Promise<void> {
  const blob = await registry.openBlob(name, digest);
  // The handle is closed on every way out, a refused Range header included.
  try {
    const headers: Record<string, string> = {
      ...API_VERSION_HEADER,
      'content-type': 'application/octet-stream',
      'docker-content-digest': digest.digest,
      etag: `"${digest.digest}"`,
      'accept-ranges': 'bytes',
      // Content-addressed: the bytes behind this URL never change.
      'cache-control': 'max-age=31536000',
    };
    const range = req.method === 'GET' ? parseRange(req.headers.range, blob.size) : undefined;
    if (range === 'unsatisfiable') {
      reply.code(416).header('content-range', `bytes */${blob.size}`);
      throw new RegistryError('BLOB_UNKNOWN', 'requested range not satisfiable', { size: blob.size }, 416);
    }
    const res: ServerResponse<IncomingMessage> = reply.raw;
    reply.hijack();
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...headers, 'content-length': String(blob.size) }).end();
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? blob.size - 1;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${blob.size}`;
    res.writeHead(range ? 206 : 200, { ...headers, 'content-length': String(end - start + 1) });
    if (blob.size === 0) {
      res.end();
      return;
    }
    try {
      await pump(blob.fh, res, start, end);
    } catch {
      // The client went away mid-download (or the file vanished under gc): drop the connection so the short body
      // is seen as an error, never as a complete blob.
      res.destroy();
    }
  } finally {
    await blob.fh.close().catch(() => {});
  }
}
