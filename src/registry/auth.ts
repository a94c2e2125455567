// Who may pull and push: users with scrypt-hashed passwords in <root>/users.json, and the bearer tokens of the
// Docker token flow (distribution/distribution docs/spec/auth/token.md, jwt.md, scope.md) that docker, skopeo
// and containerd speak: the registry answers 401 with `WWW-Authenticate: Bearer realm,service,scope`, the client
// trades Basic credentials for a short-lived token at the realm, and retries with `Authorization: Bearer`.
// Tokens are JWTs (HS256, key in <root>/token-key) whose `access` claim lists repository actions; the token
// endpoint grants the intersection of what was asked and what the user has (token.md "Requesting a Token").
import {
  createHmac,
  randomBytes,
  randomUUID,
  type ScryptOptions,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import { writeFileAtomic } from '../crypto/index.js';
import { type RateLimit, RateLimiter } from '../limits/index.js';
import { TooManyRequestsError } from './errors.js';
import { DEFAULT_TOKEN_RATE_LIMIT } from './rate-limit.js';

export type Action = 'pull' | 'push' | 'delete';
export const ACTIONS: readonly Action[] = ['pull', 'push', 'delete'];

/** One `access` entry of a token (jwt.md "claim set"): `{type, name, actions}`. */
export interface Access {
  type: 'repository' | 'registry';
  name: string;
  actions: string[];
}

export interface UserGrant {
  /** A repository name, `prefix/*` for everything under a prefix, or `*` for all repositories. */
  repository: string;
  actions: Action[];
}

export interface UserEntry {
  /** `scrypt$N$r$p$salt$hash`, salt and hash base64. */
  password: string;
  access: UserGrant[];
}

export interface UsersFile {
  users: Record<string, UserEntry>;
}

export const USERS_FILE = 'users.json';
const TOKEN_KEY_FILE = 'token-key';
const ISSUER = 'sigil-registry';
const USER_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** scrypt cost: N=2^15, r=8 (≈32 MiB, tens of ms) — slow for guessing, fine once per token request. */
const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 32 } as const;
/** token.md: "a token should never be returned with less than 60 seconds to live". */
export const DEFAULT_TOKEN_TTL_SECONDS = 300;
const PASSWORD_CHECK_TTL_MS = 5 * 60_000;
const PASSWORD_CHECK_CACHE_SIZE = 10_000;
const VERIFIED_CACHE_LIMIT = 10_000;

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { ...opts, maxmem: 256 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keylen, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (
    !Number.isSafeInteger(N) ||
    !Number.isSafeInteger(r) ||
    !Number.isSafeInteger(p) ||
    expected.length < 16
  ) {
    return false;
  }
  const actual = await scryptAsync(password, salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}

/** The subject of tokens issued without credentials; reserved, so it can never name a user's upload sessions. */
export const ANONYMOUS = 'anonymous';

export function assertUserName(name: string): void {
  if (!USER_RE.test(name)) throw new Error('user names are 1-64 characters of A-Z a-z 0-9 . _ -');
  if (name === ANONYMOUS) throw new Error(`"${ANONYMOUS}" is reserved for requests without credentials`);
}

export async function readUsers(root: string): Promise<UsersFile> {
  try {
    const parsed = JSON.parse(await readFile(join(root, USERS_FILE), 'utf8')) as UsersFile;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.users !== 'object') {
      throw new Error(`${USERS_FILE}: expected {"users": {...}}`);
    }
    return parsed;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { users: {} };
    throw err;
  }
}

/** Adds or replaces a user (what `sigil registry add-user` does). */
export async function addUser(
  root: string,
  name: string,
  password: string,
  access: UserGrant[] = [{ repository: '*', actions: [...ACTIONS] }],
): Promise<void> {
  assertUserName(name);
  if (password.length < 8) throw new Error('passwords must be at least 8 characters');
  for (const grant of access) {
    for (const a of grant.actions) if (!ACTIONS.includes(a)) throw new Error(`unknown action "${a}"`);
  }
  const file = await readUsers(root);
  file.users[name] = { password: await hashPassword(password), access };
  await writeFileAtomic(join(root, USERS_FILE), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
}

function grantCovers(grant: UserGrant, repo: string): boolean {
  if (grant.repository === '*') return true;
  if (grant.repository.endsWith('/*')) return repo.startsWith(grant.repository.slice(0, -1));
  return grant.repository === repo;
}

/** Parses one scope (scope.md): `repository:<name>:<action>[,<action>]` or `registry:catalog:*`. */
export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const lastColon = scope.lastIndexOf(':');
  if (first <= 0 || lastColon === first) return undefined;
  const type = scope.slice(0, first);
  const name = scope.slice(first + 1, lastColon);
  const actions = scope
    .slice(lastColon + 1)
    .split(',')
    .filter(Boolean);
  if (type !== 'repository' && type !== 'registry') return undefined;
  if (name === '' || actions.length === 0) return undefined;
  return { type, name, actions };
}

export function formatScope(a: Access): string {
  return `${a.type}:${a.name}:${a.actions.join(',')}`;
}

export interface AuthPolicy {
  /** Anyone may pull without credentials. */
  anonymousPull: boolean;
}

/** Who a verified bearer token speaks for (`sub`; ANONYMOUS without credentials) and what it grants. */
export interface Principal {
  subject: string;
  access: Access[];
}

/** Users, the token key and the grant policy: everything the token endpoint and the registry check need. */
export class Authority {
  private readonly verified = new Map<string, Principal & { exp: number }>();
  /** HMAC(credentials, stored hash) → expiry (ms) of successful password checks. */
  private readonly passwordChecks = new Map<string, number>();
  /** Password checks that run scrypt, per client address. */
  private readonly checks: RateLimiter;

  private constructor(
    private readonly root: string,
    private readonly key: Uint8Array,
    readonly service: string,
    readonly policy: AuthPolicy,
    readonly ttlSeconds: number,
    rateLimit: RateLimit,
  ) {
    this.checks = new RateLimiter(rateLimit);
  }

  static async open(
    root: string,
    opts: { service: string; policy: AuthPolicy; ttlSeconds?: number; rateLimit?: RateLimit },
  ): Promise<Authority> {
    const keyPath = join(root, TOKEN_KEY_FILE);
    let key: Buffer;
    try {
      key = await readFile(keyPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      key = randomBytes(32);
      await writeFileAtomic(keyPath, key, { mode: 0o600 });
    }
    if (key.length < 32) throw new Error(`${keyPath}: token key must be at least 32 bytes`);
    return new Authority(
      root,
      key,
      opts.service,
      opts.policy,
      opts.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
      opts.rateLimit ?? DEFAULT_TOKEN_RATE_LIMIT,
    );
  }

  /**
   * Checks Basic credentials against users.json (read on each call, so `add-user` takes effect without a
   * restart). Returns the user's grants, or undefined for a wrong user or password. Every check that has to run
   * scrypt takes a token from `client`'s bucket first; with none left it throws TooManyRequestsError (429).
   */
  async authenticate(user: string, password: string, client = ''): Promise<UserGrant[] | undefined> {
    const { users } = await readUsers(this.root);
    // A users.json edited by hand could hold the reserved name; it must not log in as everyone's identity.
    const entry = user !== ANONYMOUS && Object.hasOwn(users, user) ? users[user] : undefined;
    if (!entry) {
      this.charge(client);
      // Same work as a real check, so response time does not reveal which user names exist.
      await verifyPassword(
        password,
        `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$AAAAAAAAAAAAAAAAAAAAAA==$${'A'.repeat(43)}=`,
      );
      return undefined;
    }
    // scrypt is deliberately slow (tens of ms); clients such as skopeo and `sigil sign` ask for a token per
    // repository and scope, so a successful check is remembered for a few minutes. Only an HMAC of the
    // credentials and the stored hash is kept (a password change invalidates it); failures are never cached.
    const memo = createHmac('sha256', this.key)
      .update(`${user}\0${password}\0${entry.password}`)
      .digest('base64');
    const now = Date.now();
    const seen = this.passwordChecks.get(memo);
    if (seen !== undefined && seen > now) return entry.access;
    this.charge(client);
    if (!(await verifyPassword(password, entry.password))) return undefined;
    if (this.passwordChecks.size >= PASSWORD_CHECK_CACHE_SIZE) this.passwordChecks.clear();
    this.passwordChecks.set(memo, now + PASSWORD_CHECK_TTL_MS);
    return entry.access;
  }

  /** Whether a user's grants in users.json (read now) hold `action` on `repo`; never true for ANONYMOUS. */
  async holds(subject: string, repo: string, action: Action): Promise<boolean> {
    if (subject === ANONYMOUS) return false;
    const { users } = await readUsers(this.root);
    const entry = Object.hasOwn(users, subject) ? users[subject] : undefined;
    return entry?.access.some((g) => grantCovers(g, repo) && g.actions.includes(action)) ?? false;
  }

  /** Takes a password-check token for `client`, or refuses with the limit and when to retry. */
  private charge(client: string): void {
    const wait = this.checks.take(client);
    if (wait === 0) return;
    const { perMinute, burst } = this.checks.limit;
    throw new TooManyRequestsError(
      `too many token requests with a password check from this client: the limit is ${perMinute} a minute ` +
        `(bursts of ${burst}); retry in ${wait} s`,
      wait,
      { limit: { perMinute, burst }, retryAfterSeconds: wait },
    );
  }

  /**
   * What a token for `requested` scopes carries: for each scope, the requested actions the caller holds
   * (token.md: the intersection, never an error). `grants` undefined means anonymous.
   */
  grant(requested: Access[], grants: UserGrant[] | undefined): Access[] {
    const out: Access[] = [];
    for (const want of requested) {
      let allowed: string[];
      if (want.type === 'registry') {
        // The catalog lists every repository name, which says what an organization builds: authenticated users
        // only, even when anonymous pull lets anyone fetch a repository whose name they already know.
        const ok = want.name === 'catalog' && grants !== undefined;
        allowed = ok ? want.actions.filter((a) => a === '*') : [];
      } else {
        const held = new Set<string>();
        if (this.policy.anonymousPull) held.add('pull');
        for (const g of grants ?? []) if (grantCovers(g, want.name)) for (const a of g.actions) held.add(a);
        allowed = want.actions.filter((a) => held.has(a) || (a === '*' && held.size === ACTIONS.length));
      }
      if (allowed.length > 0) out.push({ type: want.type, name: want.name, actions: allowed });
    }
    return out;
  }

  async issue(
    subject: string,
    access: Access[],
  ): Promise<{ token: string; expiresIn: number; issuedAt: string }> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(this.service)
      .setSubject(subject)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + this.ttlSeconds)
      .setJti(randomUUID())
      .sign(this.key);
    return { token, expiresIn: this.ttlSeconds, issuedAt: new Date(now * 1000).toISOString() };
  }

  /** Verifies a bearer token (signature, HS256 only, issuer, audience, time): whom it speaks for, what it grants. */
  async verify(token: string): Promise<Principal | undefined> {
    const now = Date.now() / 1000;
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp > now) return { subject: cached.subject, access: cached.access };
      this.verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: this.service,
        requiredClaims: ['exp', 'sub'],
      });
      const access = parseAccessClaim(payload.access);
      if (!access || typeof payload.sub !== 'string') return undefined;
      if (this.verified.size >= VERIFIED_CACHE_LIMIT) this.verified.clear();
      this.verified.set(token, { subject: payload.sub, access, exp: payload.exp as number });
      return { subject: payload.sub, access };
    } catch {
      return undefined;
    }
  }
}

function parseAccessClaim(value: unknown): Access[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: Access[] = [];
  for (const v of value) {
    if (typeof v !== 'object' || v === null) return undefined;
    const { type, name, actions } = v as Record<string, unknown>;
    if ((type !== 'repository' && type !== 'registry') || typeof name !== 'string') return undefined;
    if (!Array.isArray(actions) || !actions.every((a) => typeof a === 'string')) return undefined;
    out.push({ type, name, actions: actions as string[] });
  }
  return out;
}

/** Whether a token's access list allows `actions` on `type:name`. */
export function allows(access: Access[], type: Access['type'], name: string, actions: string[]): boolean {
  return actions.every((want) =>
    access.some(
      (a) => a.type === type && a.name === name && (a.actions.includes(want) || a.actions.includes('*')),
    ),
  );
}
