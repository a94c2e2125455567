// Builds the one HTTP server that hosts any set of services, with /healthz answering only once all are ready.
// Fastify is the HTTP layer; pino (fastify's logger) writes structured logs.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { Service } from '../service/index.js';

export interface ServerOptions {
  host?: string;
  port?: number;
  /** pino level; "silent" in tests. */
  logLevel?: string;
  /** Where pino's JSON lines go (standard output when unset): `sigil up` rewrites them for a terminal. */
  logStream?: { write(line: string): void };
  /** Largest request body any route accepts unless it sets its own limit. */
  bodyLimit?: number;
  /** Answers requests the router refuses before any route runs (fastify's default answer when unset). */
  frameworkErrors?: FastifyServerOptions['frameworkErrors'];
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

export function createApp(options: ServerOptions = {}): FastifyInstance {
  return Fastify({
    logger: {
      level: options.logLevel ?? 'info',
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Registry digests and Rekor entry UUIDs are long path parameters.
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    forceCloseConnections: true,
    frameworkErrors: options.frameworkErrors,
  });
}

/** A URL holder for ServiceContext.publicUrl: set once the server listens. */
export function lateUrl(): { get: () => string; set: (url: string) => void } {
  let value: string | undefined;
  return {
    get: () => {
      if (value === undefined) throw new Error('public URL is not known before the server listens');
      return value;
    },
    set: (url) => {
      value = url.replace(/\/$/, '');
    },
  };
}

/** Registers the services, listens, tells each service its URL, and only then reports healthy. */
export async function startServer(
  services: Service[],
  options: ServerOptions & { onUrl?: (url: string) => void } = {},
): Promise<RunningServer> {
  const app = createApp({
    ...options,
    // A malformed path is answered by the service whose path it is, in its own error format.
    frameworkErrors: (error, request, reply) => {
      for (const s of services) if (s.frameworkError?.(request, reply)) return;
      // What fastify answers by itself when no frameworkErrors is given.
      const statusCode = error.statusCode ?? 400;
      (reply as FastifyReply)
        .code(statusCode)
        .send({ error: 'Bad Request', code: error.code, message: error.message, statusCode });
    },
  });
  let ready = false;
  app.get('/healthz', async (_req, reply) => {
    if (!ready) return reply.code(503).send({ status: 'starting' });
    return { status: 'ok', services: services.map((s) => s.name) };
  });
  for (const s of services) await s.register(app);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  options.onUrl?.(url);
  for (const s of services) await s.started?.(url);
  ready = true;
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    close() {
      closing ??= (async () => {
        ready = false;
        await app.close();
        for (const s of [...services].reverse()) await s.close();
      })();
      return closing;
    },
  };
}

/**
 * Several services that run together as one (`sigil serve ca`: the CA with its CT log, issuer and trust files):
 * registered and started in order, closed in reverse, named once in /healthz.
 */
export function combineServices(name: string, parts: Service[]): Service {
  return {
    name,
    async register(app) {
      for (const p of parts) await p.register(app);
    },
    frameworkError: (request, reply) => parts.some((p) => p.frameworkError?.(request, reply) === true),
    async started(url) {
      for (const p of parts) await p.started?.(url);
    },
    async close() {
      for (const p of [...parts].reverse()) await p.close();
    },
  };
}
