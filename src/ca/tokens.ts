// OIDC identity token verification (OpenID Connect Core §3.1.3.7, RFC 7519) against the allow-list: the issuer
// must be listed, its keys come from discovery + JWKS (jose's remote JWK set caches them and refetches on an
// unknown `kid`), only asymmetric algorithms are accepted, and `iss`, `aud`, `exp`, `nbf` and `iat` are checked
// with a small clock skew. Every refusal is a CaError 401 that says which rule failed.
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { CaError } from './errors.js';
import type { IssuerConfig } from './identity.js';

/** RFC 7518 §3.1 asymmetric algorithms (+ RFC 8037 EdDSA); `none` and HMAC can never verify an ID token here. */
export const ACCEPTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
export const CLOCK_SKEW_SECONDS = 60;
const DISCOVERY_TIMEOUT_MS = 5_000;
/** How long a fetched JWKS is trusted before jose refetches it (also refetched at once on an unknown kid). */
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** Minimum time between refetches triggered by unknown kids, so a flood of bad tokens cannot hammer the IdP. */
const JWKS_COOLDOWN_MS = 30_000;

export interface VerifiedToken {
  issuer: IssuerConfig;
  claims: JWTPayload & Record<string, unknown>;
}

const unauthorized = (msg: string) => new CaError(401, msg);

export class TokenVerifier {
  private readonly keySets = new Map<string, Promise<JWTVerifyGetKey>>();

  constructor(private readonly issuers: () => IssuerConfig[]) {}

  findIssuer(iss: string): IssuerConfig | undefined {
    return this.issuers().find((i) => i.issuerUrl === iss);
  }

  /** OpenID Connect Discovery 1.0 §4: the document's `issuer` must equal the token's `iss`. */
  private keySet(issuerUrl: string): Promise<JWTVerifyGetKey> {
    let set = this.keySets.get(issuerUrl);
    if (!set) {
      set = (async () => {
        const url = `${issuerUrl.replace(/\/$/, '')}/.well-known/openid-configuration`;
        let doc: { issuer?: unknown; jwks_uri?: unknown };
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          doc = (await res.json()) as typeof doc;
        } catch (err) {
          throw new CaError(
            503,
            `could not fetch OIDC discovery for ${issuerUrl}: ${(err as Error).message}`,
          );
        }
        if (doc.issuer !== issuerUrl)
          throw new CaError(
            503,
            `OIDC discovery for ${issuerUrl} names a different issuer ${String(doc.issuer)}`,
          );
        if (typeof doc.jwks_uri !== 'string')
          throw new CaError(503, `OIDC discovery for ${issuerUrl} has no jwks_uri`);
        return createRemoteJWKSet(new URL(doc.jwks_uri), {
          timeoutDuration: DISCOVERY_TIMEOUT_MS,
          cacheMaxAge: JWKS_MAX_AGE_MS,
          cooldownDuration: JWKS_COOLDOWN_MS,
        });
      })();
      // A failed discovery is not cached: the next request tries again.
      set.catch(() => this.keySets.delete(issuerUrl));
      this.keySets.set(issuerUrl, set);
    }
    return set;
  }

  async verify(token: string): Promise<VerifiedToken> {
    if (!token) throw unauthorized('no identity token was given');
    let iss: unknown;
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch {
      throw unauthorized('the identity token is not a well-formed JWT');
    }
    if (typeof alg !== 'string' || !ACCEPTED_ALGORITHMS.includes(alg))
      throw unauthorized(`the identity token's algorithm ${String(alg)} is not accepted (asymmetric only)`);
    if (typeof iss !== 'string') throw unauthorized('the identity token has no "iss" claim');
    const issuer = this.findIssuer(iss);
    if (!issuer) throw unauthorized(`the identity token's issuer ${iss} is not on this CA's allow-list`);
    const keys = await this.keySet(iss);
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, {
        issuer: iss,
        audience: issuer.clientId,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (err) {
      throw describeJoseError(err, issuer);
    }
    // jose checks `iat` only against maxTokenAge; a token issued in the future is as suspect as a `nbf` one.
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat === 'number' && claims.iat > now + CLOCK_SKEW_SECONDS)
      throw unauthorized('the identity token is not yet valid: "iat" is in the future');
    return { issuer, claims: claims as VerifiedToken['claims'] };
  }
}

function describeJoseError(err: unknown, issuer: IssuerConfig): CaError {
  if (err instanceof CaError) return err;
  if (err instanceof errors.JWTExpired) return unauthorized('the identity token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf')
      return unauthorized('the identity token is not yet valid ("nbf" is in the future)');
    if (err.claim === 'aud')
      return unauthorized(`the identity token's audience is wrong: expected "${issuer.clientId}"`);
    if (err.reason === 'missing')
      return unauthorized(`the identity token is missing the "${err.claim}" claim`);
    return unauthorized(`the identity token's "${err.claim}" claim is invalid: ${err.message}`);
  }
  if (err instanceof errors.JWKSNoMatchingKey)
    return unauthorized(`no key in ${issuer.issuerUrl}'s JWKS matches the identity token's kid`);
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return unauthorized('several JWKS keys match the identity token; it must name its kid');
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return unauthorized('the identity token signature does not verify');
  if (err instanceof errors.JOSEAlgNotAllowed)
    return unauthorized('the identity token algorithm is not accepted');
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JOSENotSupported)
    return new CaError(
      err instanceof errors.JWKSTimeout ? 503 : 401,
      `identity token: ${(err as Error).message}`,
    );
  if (err instanceof errors.JOSEError) return unauthorized(`the identity token is invalid: ${err.message}`);
  return new CaError(503, `could not verify the identity token: ${(err as Error).message}`);
}
