// The contract every sigil service (log, ct, ca, oidc, tuf, registry) fulfils so that `sigil serve <name>` and
// `sigil up` can compose them on one HTTP server: types only, below every component, so that a service needs nothing
// from server/ (which composes them) to be one. An engine knows nothing of HTTP; its http.ts turns it into a Service.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface Service {
  /** Short name used in logs and in /healthz, e.g. "log". */
  readonly name: string;
  /** Adds this service's routes (and scoped hooks/parsers) to the app. Called once before listen. */
  register(app: FastifyInstance): Promise<void>;
  /**
   * Answers a request the router refused before any route ran (a path whose percent-encoding does not decode) in
   * this service's error format, if the path is this service's; returns false to leave it to the default answer.
   */
  frameworkError?(request: FastifyRequest, reply: FastifyReply): boolean;
  /** Called once the server listens, with its base URL; for work that needs the public address (trust files). */
  started?(url: string): Promise<void>;
  /** Flushes and releases storage; after it resolves, acknowledged data is durable. */
  close(): Promise<void>;
}

/** What a service factory is given: where its state lives and the public URL clients reach it by. */
export interface ServiceContext {
  dataDir: string;
  /**
   * Base URL clients use, e.g. http://127.0.0.1:3000 (no trailing slash). Known only once the server listens
   * (the port may be chosen by the OS), so it is a function; calling it earlier throws.
   */
  publicUrl: () => string;
}
