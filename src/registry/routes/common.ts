// What the registry's route groups share: the context each endpoint is given (engine, auth checks), the shape of
// an endpoint under /v2/, and the small request and response helpers of distribution-spec's wire format.
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { closeAfterResponse } from '../../limits/index.js';
import type { Access, Authority, Principal } from '../auth.js';
import type { Registry } from '../engine.js';
import { type ErrorCode, RegistryError, TooManyRequestsError } from '../errors.js';
import { bodyChunks } from '../uploads.js';

export const API_VERSION_HEADER = { 'docker-distribution-api-version': 'registry/2.0' };

/** What every endpoint is given: the engine and the auth checks of routes/auth.ts. */
export interface RouteContext {
  registry: Registry;
  /** Checks credentials and tokens; undefined lets anyone push (`--anonymous-push`, local tests only). */
  authority?: Authority;
  /**
   * Checks that the request may perform `actions` on `type:name` (else a 401 challenge asking for `asked`, or
   * `actions`, and `alsoAsked`); returns whom the token speaks for (undefined without auth or for an anonymous pull).
   */
  authorize(
    req: FastifyRequest,
    type: Access['type'],
    name: string,
    actions: string[],
    asked?: string[],
    alsoAsked?: string[],
  ): Promise<Principal | undefined>;
  /** Whether a request's own token (already verified) also allows pulling `from` (for mounts). */
  mayPull(req: FastifyRequest, from: string): Promise<boolean>;
  /** The `WWW-Authenticate` value of a Bearer challenge. */
  challenge(scope?: string, error?: string): string;
}

/**
 * One endpoint of the distribution API under /v2/. Repository names contain slashes, so endpoints are found by
 * matching `path` against the raw path rather than by fastify's router; each capture is percent-decoded after, a
 * malformed escape being the error its `parts` code names (400, or 404 for an upload id).
 */
export interface Endpoint {
  path: RegExp;
  parts: ('NAME_INVALID' | 'MANIFEST_INVALID' | 'DIGEST_INVALID' | 'BLOB_UPLOAD_UNKNOWN')[];
  /** Answers every method; one the endpoint lacks is 405, once the path's parts have been checked. */
  handle(ctx: RouteContext, req: FastifyRequest, reply: FastifyReply, parts: string[]): Promise<unknown>;
}

/** A 401 carrying the Bearer challenge (token.md "How to authenticate"; RFC 6750 §3). */
export class ChallengeError extends RegistryError {
  constructor(
    message: string,
    readonly challenge: string,
    detail?: unknown,
  ) {
    super('UNAUTHORIZED', message, detail);
  }
}

export function unsupported(method: string): RegistryError {
  return new RegistryError('UNSUPPORTED', `${method} is not supported here`, undefined, 405);
}

export function one(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length > 0 ? String(value[value.length - 1]) : undefined;
  return typeof value === 'string' ? value : undefined;
}

export function many(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' ? [value] : [];
}

export function query(req: FastifyRequest): Record<string, unknown> {
  return req.query as Record<string, unknown>;
}

export function hasBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export function bodyStream(req: FastifyRequest): Readable {
  return (req.body as Readable | undefined) ?? req.raw;
}

export function contentLength(req: FastifyRequest): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Reads a small request body fully, refusing more than `limit` bytes (413 naming the limit). */
export async function readLimited(req: FastifyRequest, limit: number, what: string): Promise<Buffer> {
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

/** 201 for content now stored at `/v2/<name>/<kind>/<digest>` (a blob or a manifest). */
export function created(reply: FastifyReply, name: string, kind: 'blobs' | 'manifests', digest: string) {
  return reply.code(201).headers({
    location: `/v2/${name}/${kind}/${digest}`,
    'docker-content-digest': digest,
    'content-length': '0',
  });
}

/** Sends a registry error in the spec's format; a request whose body is still unread is closed in stages after. */
export function sendError(req: FastifyRequest, reply: FastifyReply, err: RegistryError): FastifyReply {
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

/** Percent-decodes one part of the path; a malformed escape is that part's error. */
export function decodePart(raw: string, code: ErrorCode): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new RegistryError(code, 'malformed percent-encoding in path', { part: raw.slice(0, 300) });
  }
}
