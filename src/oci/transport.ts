// HTTP to one or more registries with authentication: anonymous first, then whatever the 401 challenge asks for —
// Basic with the user's credentials, or the Bearer token flow of distribution docs/spec/auth/token.md (GET the
// realm with service and scope, Basic credentials if we have any, retry with the token; tokens cached per scope
// until they expire). Redirects are followed for reads, without the Authorization header when the origin
// changes (distribution-spec "API": clients MUST NOT forward Authorization across host boundaries).
import type { Readable } from 'node:stream';
import { type HttpResponse, request } from '../net/index.js';
import { basicAuthorization, type Challenge, type Credentials, parseWwwAuthenticate } from './auth.js';
import { describeErrorBody, OciError } from './errors.js';
import { DOCKER_HUB_API, isDockerHub } from './reference.js';

export type BodyFactory = () => Buffer | Uint8Array | Readable | undefined;

export interface TransportOptions {
  /** Credentials to use for every registry (flags); when absent, `credentialsFor` is asked. */
  credentials?: Credentials;
  /** Looks credentials up per registry and repository (e.g. in docker config.json). */
  credentialsFor?: (registry: string, repository?: string) => Promise<Credentials | undefined>;
  /** Plain HTTP for these registries (`host:port`), or for all when true. Loopback always uses plain HTTP. */
  insecure?: boolean | string[];
  userAgent?: string;
}

export interface HttpRequest {
  registry: string;
  repository?: string;
  method: string;
  /** Path under the registry (`/v2/...`) or an absolute URL (an upload Location). */
  url: string;
  headers?: Record<string, string>;
  body?: BodyFactory;
  /** Token scopes this request needs, e.g. `repository:team/app:pull,push`. */
  scopes: string[];
  /** Names the operation in error messages, e.g. `GET manifest localhost:5000/app:1`. */
  what: string;
}

interface RegistryAuthState {
  /** Per repository (auth.json may hold per-repository entries); null: looked up, none found. */
  credentials: Map<string, Credentials | null>;
  /** What the registry asked for last time; lets later requests authenticate without a 401 round trip. */
  challenge?: Challenge;
  tokens: Map<string, { token: string; expiresAt: number }>;
  /** Token requests on their way, per scope: requests sent together share one. */
  tokenRequests: Map<string, Promise<string>>;
  /**
   * Settles once the first request to the registry has its challenge (or its answer without one): requests sent
   * together (a verify's manifest, `.sig` and referrers lookups) wait for it instead of each taking a 401.
   */
  firstAnswer?: Promise<void>;
}

/** Seconds a token lives when the token server does not say (token.md "expires_in"). */
const DEFAULT_TOKEN_SECONDS = 60;
/** Renew this long before expiry so that a token does not run out mid-request. */
const TOKEN_EXPIRY_MARGIN_MS = 10_000;
const MAX_REDIRECTS = 5;

export function isLoopbackHost(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.split(':')[0];
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export class Transport {
  private readonly state = new Map<string, RegistryAuthState>();

  constructor(private readonly options: TransportOptions = {}) {}

  /** `http://host:port` or `https://host:port` for a registry. */
  baseUrl(registry: string): string {
    const insecure = this.options.insecure;
    const plain =
      isLoopbackHost(registry) ||
      insecure === true ||
      (Array.isArray(insecure) && insecure.includes(registry));
    // docker.io is a name; Docker Hub's registry API answers at registry-1.docker.io.
    if (isDockerHub(registry)) return `https://${DOCKER_HUB_API}`;
    return `${plain ? 'http' : 'https'}://${registry}`;
  }

  private stateFor(registry: string): RegistryAuthState {
    let s = this.state.get(registry);
    if (!s) {
      s = { tokens: new Map(), tokenRequests: new Map(), credentials: new Map() };
      this.state.set(registry, s);
    }
    return s;
  }

  private async credentials(registry: string, repository?: string): Promise<Credentials | undefined> {
    if (this.options.credentials) return this.options.credentials;
    const s = this.stateFor(registry);
    const key = repository ?? '';
    if (!s.credentials.has(key)) {
      s.credentials.set(key, (await this.options.credentialsFor?.(registry, repository)) ?? null);
    }
    return s.credentials.get(key) ?? undefined;
  }

  /** The Authorization header we can send without asking the registry first, if any. */
  private async authorization(req: HttpRequest, fresh = false): Promise<string | undefined> {
    const s = this.stateFor(req.registry);
    if (!s.challenge) return undefined;
    if (s.challenge.scheme === 'basic') {
      const creds = await this.credentials(req.registry, req.repository);
      return creds ? basicAuthorization(creds) : undefined;
    }
    if (s.challenge.scheme === 'bearer') {
      const cached = coveringToken(s.tokens, req.scopes);
      if (cached) return `Bearer ${cached.token}`;
      // The challenge's own scope belongs to the request that got it; later requests ask for their own.
      const key = scopeKey(req.scopes);
      let pending = s.tokenRequests.get(key);
      if (!pending) {
        pending = this.fetchToken(req, s.challenge, fresh).finally(() => s.tokenRequests.delete(key));
        s.tokenRequests.set(key, pending);
      }
      return `Bearer ${await pending}`;
    }
    return undefined;
  }

  /**
   * Sends the request, answering one 401 challenge. Returns the final response for any status but 401, which
   * becomes an UNAUTHORIZED error saying whether credentials were missing or rejected.
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const s = this.stateFor(req.registry);
    let probed: (() => void) | undefined;
    if (s.firstAnswer) await s.firstAnswer;
    else
      s.firstAnswer = new Promise<void>((resolve) => {
        probed = resolve;
      });
    try {
      return await this.authenticated(req, s, probed);
    } finally {
      probed?.();
    }
  }

  private async authenticated(
    req: HttpRequest,
    s: RegistryAuthState,
    probed: (() => void) | undefined,
  ): Promise<HttpResponse> {
    let auth = await this.authorization(req);
    let res = await this.send(req, auth);
    if (res.status !== 401) return res;
    const bodyText = await res.text().catch(() => '');
    const challenges = parseWwwAuthenticate(res.headers.get('www-authenticate') ?? '');
    const challenge =
      challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    const creds = await this.credentials(req.registry, req.repository);
    if (!challenge) {
      throw new OciError(
        'UNAUTHORIZED',
        `${req.what}: 401 unauthorized with no usable WWW-Authenticate challenge` +
          ` (got "${res.headers.get('www-authenticate') ?? ''}")${detail(bodyText)}`,
        401,
      );
    }
    const previous = s.challenge;
    s.challenge = challenge;
    // Requests waiting on this first one can go now: they find the challenge, and share the token it asks for.
    probed?.();
    if (challenge.scheme === 'basic') {
      if (!creds) throw missingCredentials(req, bodyText);
      if (previous?.scheme === 'basic' && auth) throw rejectedCredentials(req, creds, bodyText);
    } else {
      // A cached token was refused (revoked, or scope too narrow): drop it and ask again once.
      s.tokens.delete(scopeKey(req.scopes));
    }
    auth = await this.authorization(req, true);
    res = await this.send(req, auth);
    if (res.status !== 401) return res;
    const text = await res.text().catch(() => '');
    throw creds ? rejectedCredentials(req, creds, text) : missingCredentials(req, text);
  }

  private async fetchToken(
    req: HttpRequest,
    challenge: Challenge,
    withChallengeScope: boolean,
  ): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new OciError('UNAUTHORIZED', `${req.what}: Bearer challenge without a realm`, 401);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new OciError('BAD_RESPONSE', `${req.what}: Bearer realm "${realm}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new OciError('BAD_RESPONSE', `${req.what}: Bearer realm "${realm}" is not http(s)`);
    }
    const creds = await this.credentials(req.registry, req.repository);
    // Credentials travel in clear over http: only to loopback or a registry the user marked insecure.
    if (url.protocol === 'http:' && creds && this.baseUrl(url.host).startsWith('https:')) {
      throw new OciError(
        'UNAUTHORIZED',
        `${req.what}: refusing to send credentials to token realm ${realm} over plain HTTP` +
          ` (mark ${url.host} insecure to allow it)`,
      );
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    const scopes = new Set(req.scopes);
    if (withChallengeScope)
      for (const sc of (challenge.params.scope ?? '').split(' ')) if (sc) scopes.add(sc);
    for (const sc of scopes) url.searchParams.append('scope', sc);
    const headers: Record<string, string> = { 'user-agent': this.userAgent() };
    if (creds) headers.authorization = basicAuthorization(creds);
    let res: HttpResponse;
    try {
      res = await request(url, { headers, redirect: 'follow' });
    } catch (err) {
      throw new OciError(
        'NETWORK',
        `${req.what}: cannot reach token server ${url.origin}: ${errText(err)}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) {
      throw new OciError(
        'UNAUTHORIZED',
        `${req.what}: token server ${url.origin} refused ${creds ? `user "${creds.username}"` : 'anonymous access'}` +
          ` (${res.status})${detail(text)}`,
        401,
      );
    }
    if (!res.ok) {
      throw new OciError(
        'UNAUTHORIZED',
        `${req.what}: token server ${url.origin} answered ${res.status}${detail(text)}`,
      );
    }
    let body: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      body = JSON.parse(text);
    } catch {
      throw new OciError('BAD_RESPONSE', `${req.what}: token server ${url.origin} did not answer JSON`);
    }
    const token = body.token ?? body.access_token;
    if (typeof token !== 'string' || !token) {
      throw new OciError('BAD_RESPONSE', `${req.what}: token server ${url.origin} answered without a token`);
    }
    const seconds =
      typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    const issued = body.issued_at ? Date.parse(body.issued_at) : Number.NaN;
    const start = Number.isFinite(issued) && issued <= Date.now() ? issued : Date.now();
    this.stateFor(req.registry).tokens.set(scopeKey(req.scopes), {
      token,
      expiresAt: start + seconds * 1000 - TOKEN_EXPIRY_MARGIN_MS,
    });
    return token;
  }

  private userAgent(): string {
    return this.options.userAgent ?? 'sigil-oci-client';
  }

  /** One request, following redirects for reads; Authorization only goes to the registry's own origin. */
  private async send(req: HttpRequest, authorization: string | undefined): Promise<HttpResponse> {
    const base = this.baseUrl(req.registry);
    let url = new URL(req.url, base);
    const origin = new URL(base).origin;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.userAgent(), ...req.headers };
      if (authorization && url.origin === origin) headers.authorization = authorization;
      const body = hop === 0 ? req.body?.() : undefined;
      let res: HttpResponse;
      try {
        res = await request(url, { method: req.method, headers, body, redirect: 'manual' });
      } catch (err) {
        destroyBody(body);
        throw new OciError('NETWORK', `${req.what}: cannot reach ${url.origin}: ${errText(err)}`, undefined, {
          cause: err,
        });
      }
      const location = res.headers.get('location');
      const redirect = [301, 302, 303, 307, 308].includes(res.status) && location;
      if (!redirect || (req.method !== 'GET' && req.method !== 'HEAD')) return res;
      if (hop >= MAX_REDIRECTS)
        throw new OciError('BAD_RESPONSE', `${req.what}: more than ${MAX_REDIRECTS} redirects`);
      res.discard();
      url = new URL(location, url);
    }
  }
}

function destroyBody(body: unknown): void {
  if (body && typeof (body as Readable).destroy === 'function') (body as Readable).destroy();
}

export function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}

/** `repository:team/app:pull,push` → ['repository:team/app', {pull, push}]. */
function splitScope(scope: string): [string, Set<string>] {
  const at = scope.lastIndexOf(':');
  return at < 0 ? [scope, new Set()] : [scope.slice(0, at), new Set(scope.slice(at + 1).split(','))];
}

/**
 * A live cached token whose scopes include every requested action (a `pull,push` token serves a later `pull`
 * on the same repository), so a sign or push does not ask the token server twice.
 */
export function coveringToken<T extends { expiresAt: number }>(
  tokens: Map<string, T>,
  scopes: string[],
): T | undefined {
  const exact = tokens.get(scopeKey(scopes));
  const now = Date.now();
  if (exact && exact.expiresAt > now) return exact;
  for (const [key, token] of tokens) {
    if (token.expiresAt <= now) continue;
    const held = new Map(key.split(' ').map(splitScope));
    const covers = scopes.every((want) => {
      const [resource, actions] = splitScope(want);
      const have = held.get(resource);
      return have !== undefined && [...actions].every((a) => have.has(a));
    });
    if (covers) return token;
  }
  return undefined;
}

export function repositoryScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

function detail(text: string): string {
  const d = describeErrorBody(text);
  return d ? ` (registry said: ${d})` : '';
}

/** The system error code (ECONNREFUSED …) when there is one: it says more than Node's message. */
function errText(err: unknown): string {
  const e = err as Error & { code?: string };
  return e.code ?? e.message ?? String(err);
}

function missingCredentials(req: HttpRequest, body: string): OciError {
  return new OciError(
    'UNAUTHORIZED',
    `${req.what}: ${req.registry} requires authentication and no credentials were found` +
      ` (pass --registry-username/--registry-password, or log in with sigil login or docker/podman/skopeo login)${detail(body)}`,
    401,
  );
}

function rejectedCredentials(req: HttpRequest, creds: Credentials, body: string): OciError {
  return new OciError(
    'UNAUTHORIZED',
    `${req.what}: ${req.registry} rejected the credentials of user "${creds.username}", or they lack access to` +
      ` ${req.scopes.join(' ') || 'the registry'} (401)${detail(body)}`,
    401,
  );
}
