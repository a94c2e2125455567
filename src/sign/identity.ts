// Where the OIDC identity token for keyless signing comes from, in cosign's order (cosign options/fulcio.go,
// pkg/providers): the --identity-token flag (the token, or a file holding it), SIGSTORE_ID_TOKEN, GitHub Actions'
// token request (GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore with `Authorization: bearer
// $ACTIONS_ID_TOKEN_REQUEST_TOKEN` → {"value": jwt}; GitHub's "security hardening with OpenID Connect"), and
// sigil's own CI issuer through the same protocol with a runner secret from `sigil oidc add-runner`.
import { readFileSync, statSync } from 'node:fs';
import { SignError } from './errors.js';
import { type HttpOptions, joinUrl, requestJson } from './http.js';

export const DEFAULT_AUDIENCE = 'sigstore';
/** The CI issuer's token request path (src/oidc TOKEN_PATH); the request shape is GitHub's. */
export const SIGIL_TOKEN_PATH = '/oidc/token';

export type TokenSource = 'flag' | 'SIGSTORE_ID_TOKEN' | 'github-actions' | 'sigil-issuer';

export interface TokenOptions extends HttpOptions {
  /** --identity-token: the JWT itself or a path to a file holding it. */
  identityToken?: string;
  /** Audience requested from ambient providers (cosign --oidc-client-id; default "sigstore"). */
  audience?: string;
  /** The signing config's OIDC URL: sigil's issuer, used with SIGIL_OIDC_REQUEST_TOKEN. */
  oidcUrl?: string;
  env?: NodeJS.ProcessEnv;
}

export interface IdentityToken {
  token: string;
  source: TokenSource;
  claims: Record<string, unknown>;
}

/** Decodes (without verifying: the CA does that) the claims of a compact JWS. */
export function tokenClaims(token: string): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3)
    throw new SignError('TOKEN_INVALID', 'identity token is not a JWT (want header.payload.signature)');
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof claims !== 'object' || claims === null) throw new Error('not an object');
    return claims as Record<string, unknown>;
  } catch {
    throw new SignError('TOKEN_INVALID', 'identity token payload is not base64url JSON');
  }
}

/**
 * The value the proof of possession signs: the email for email identities, the subject otherwise (what Fulcio
 * names the challenge claim; cosign's oauthflow.SubjectFromToken does the same).
 */
export function challengeOf(claims: Record<string, unknown>): string {
  if (typeof claims.email === 'string' && claims.email !== '') return claims.email;
  if (typeof claims.sub === 'string' && claims.sub !== '') return claims.sub;
  throw new SignError('TOKEN_INVALID', 'identity token has neither an email nor a sub claim');
}

function fromFlag(value: string): string {
  // cosign accepts the token or a path to a file with it; a JWT never contains "/" so a path is unambiguous.
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value.trim())) {
    try {
      if (statSync(value).isFile()) return readFileSync(value, 'utf8').trim();
    } catch {
      // not a file: treated as the token, rejected below if malformed
    }
  }
  return value.trim();
}

/** GitHub Actions' request URL already has a query (`?api-version=2.0`); the audience is appended to it. */
export function actionsTokenUrl(requestUrl: string, audience: string): string {
  const sep = requestUrl.includes('?') ? '&' : '?';
  return `${requestUrl}${sep}audience=${encodeURIComponent(audience)}`;
}

async function requestActionsToken(url: string, secret: string, what: string, options: HttpOptions) {
  const res = await requestJson<{ value?: unknown }>(
    'TOKEN_MISSING',
    what,
    url,
    { headers: { authorization: `bearer ${secret}` } },
    options,
  );
  if (typeof res.body?.value !== 'string' || res.body.value === '') {
    throw new SignError('TOKEN_MISSING', `${what}: the answer has no "value" token`);
  }
  return res.body.value;
}

/** Finds an identity token from the sources above, in order; throws TOKEN_MISSING naming every source tried. */
export async function getIdentityToken(options: TokenOptions = {}): Promise<IdentityToken> {
  const env = options.env ?? process.env;
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const done = (token: string, source: TokenSource): IdentityToken => ({
    token,
    source,
    claims: tokenClaims(token),
  });
  if (options.identityToken) return done(fromFlag(options.identityToken), 'flag');
  if (env.SIGSTORE_ID_TOKEN) return done(env.SIGSTORE_ID_TOKEN.trim(), 'SIGSTORE_ID_TOKEN');
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    const url = actionsTokenUrl(env.ACTIONS_ID_TOKEN_REQUEST_URL, audience);
    const token = await requestActionsToken(
      url,
      env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
      'GitHub Actions ID token request',
      options,
    );
    return done(token, 'github-actions');
  }
  if (env.SIGIL_OIDC_REQUEST_TOKEN) {
    // The caller's URL has already weighed the flag and the environment (src/cli/context.ts resolveServices).
    const base = options.oidcUrl ?? env.SIGIL_OIDC_URL;
    if (!base) {
      throw new SignError(
        'TOKEN_MISSING',
        'SIGIL_OIDC_REQUEST_TOKEN is set but no issuer URL is known: set SIGIL_OIDC_URL or run `sigil initialize`',
      );
    }
    const url = actionsTokenUrl(joinUrl(base, `${SIGIL_TOKEN_PATH}?api-version=2.0`), audience);
    const token = await requestActionsToken(
      url,
      env.SIGIL_OIDC_REQUEST_TOKEN,
      'sigil issuer token request',
      options,
    );
    return done(token, 'sigil-issuer');
  }
  throw new SignError(
    'TOKEN_MISSING',
    'no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, run inside GitHub Actions with ' +
      '`permissions: id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN), or set SIGIL_OIDC_REQUEST_TOKEN ' +
      '(a runner secret from `sigil oidc add-runner`)',
  );
}
