// OIDC identity token verification (OpenID Connect Core §3.1.3.7, RFC 7519) against the allow-list: the issuer
// must be listed, its keys come from discovery + JWKS (jose's remote JWK set caches them and refetches on an
// unknown `kid`), only asymmetric algorithms are accepted, and `iss`, `aud`, `exp`, `nbf` and `iat` are checked
// with a small clock skew. Every refusal is a CaError 401 that says which rule failed.
//
// jose fetches, caches, selects and imports the issuer's keys; the JWS signature itself (RFC 7515 §5.2) is checked
// with node:crypto synchronously on a KeyObject cached per imported key, and the compact serialization and claims
// by the rules below. Not jose's jwtVerify: it verifies through WebCrypto, 150-240 µs of CPU per ES256 token here
// against 69-86 µs, 10-20% more CPU per certificate (docs/design/ca-issuance.md, "Token checks").
import {
  constants as cryptoConstants,
  KeyObject,
  type KeyObject as NodeKeyObject,
  verify,
} from 'node:crypto';
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey } from 'jose';
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
/**
 * A token older than this is refused whatever its `exp` says (jose's maxTokenAge): CI tokens live 5-10 minutes and
 * interactive ones an hour, so a day-old token is a leaked one.
 */
export const MAX_TOKEN_AGE_SECONDS = 3600;
/** RFC 7515 §7.1 / RFC 4648 §5: base64url without padding, no other characters (an empty signature is refused by alg). */
const BASE64URL_PART = /^[A-Za-z0-9_-]*$/;
const DISCOVERY_TIMEOUT_MS = 5_000;
/** How long a fetched JWKS is trusted before jose refetches it (also refetched at once on an unknown kid). */
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** Minimum time between refetches triggered by unknown kids, so a flood of bad tokens cannot hammer the IdP. */
const JWKS_COOLDOWN_MS = 30_000;
/** Retry-After for a configured issuer whose keys cannot be had now: the JWKS cooldown, rounded to seconds. */
export const ISSUER_RETRY_AFTER_SECONDS = JWKS_COOLDOWN_MS / 1000;
const unavailable = (msg: string) => new CaError(503, msg, ISSUER_RETRY_AFTER_SECONDS);

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
          throw unavailable(`could not fetch OIDC discovery for ${issuerUrl}: ${(err as Error).message}`);
        }
        if (doc.issuer !== issuerUrl)
          throw unavailable(`OIDC discovery for ${issuerUrl} names a different issuer ${String(doc.issuer)}`);
        if (typeof doc.jwks_uri !== 'string')
          throw unavailable(`OIDC discovery for ${issuerUrl} has no jwks_uri`);
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
    let header: Record<string, unknown>;
    let claims: VerifiedToken['claims'];
    try {
      // One decode of each part; jose's decode helpers would parse the token again for each field.
      const parts = token.split('.');
      if (parts.length !== 3 || !parts.every((part) => BASE64URL_PART.test(part)) || !parts[0] || !parts[1])
        throw new Error('not three base64url parts');
      const [h, p] = parts;
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
      if (typeof header !== 'object' || !header || typeof claims !== 'object' || !claims)
        throw new Error('not JSON objects');
    } catch {
      throw unauthorized('the identity token is not a well-formed JWT');
    }
    // RFC 7515 §4.1.11: a recipient must refuse a JWS whose "crit" names extensions it does not understand, and
    // sigil understands none.
    if (header.crit !== undefined)
      throw unauthorized('the identity token\'s header has "crit"; no JWS extensions are accepted');
    const { alg } = header;
    const { iss } = claims;
    if (typeof alg !== 'string' || !ACCEPTED_ALGORITHMS.includes(alg))
      throw unauthorized(`the identity token's algorithm ${String(alg)} is not accepted (asymmetric only)`);
    if (typeof iss !== 'string') throw unauthorized('the identity token has no "iss" claim');
    const issuer = this.findIssuer(iss);
    if (!issuer) throw unauthorized(`the identity token's issuer ${iss} is not on this CA's allow-list`);
    const keys = await this.keySet(iss);
    let key: NodeKeyObject;
    try {
      key = toKeyObject(await keys(header as Parameters<JWTVerifyGetKey>[0], { payload: '', signature: '' }));
    } catch (err) {
      throw describeJoseError(err, issuer);
    }
    if (!verifyJws(token, alg, key)) throw unauthorized('the identity token signature does not verify');
    checkClaims(claims, issuer);
    return { issuer, claims };
  }
}

const keyObjects = new WeakMap<object, NodeKeyObject>();

/** jose hands out WebCrypto CryptoKeys (cached per JWK); node:crypto wants a KeyObject: convert once per key. */
function toKeyObject(key: unknown): NodeKeyObject {
  if (key instanceof KeyObject) return key;
  let ko = keyObjects.get(key as object);
  if (!ko) {
    ko = KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
    keyObjects.set(key as object, ko);
  }
  return ko;
}

const HASHES: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** RFC 7518 §3: the signature over `header.payload`, with the key type the algorithm demands. */
function verifyJws(token: string, alg: string, key: NodeKeyObject): boolean {
  const dot = token.lastIndexOf('.');
  const signingInput = Buffer.from(token.slice(0, dot), 'latin1');
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  const hash = HASHES[alg.slice(2)];
  const type = key.asymmetricKeyType;
  try {
    if (alg === 'EdDSA') return type === 'ed25519' && verify(null, signingInput, key, signature);
    if (alg.startsWith('ES')) {
      if (type !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== EC_CURVES[alg]) return false;
      return verify(hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    if (alg.startsWith('RS')) return type === 'rsa' && verify(hash, signingInput, key, signature);
    if (alg.startsWith('PS')) {
      if (type !== 'rsa' && type !== 'rsa-pss') return false;
      const padding = cryptoConstants.RSA_PKCS1_PSS_PADDING;
      return verify(hash, signingInput, { key, padding, saltLength: Number(alg.slice(2)) / 8 }, signature);
    }
  } catch {
    return false;
  }
  return false;
}

/** RFC 7519 §4.1 registered claims, with CLOCK_SKEW_SECONDS of tolerance. */
function checkClaims(c: VerifiedToken['claims'], issuer: IssuerConfig): void {
  const now = Math.floor(Date.now() / 1000);
  for (const name of ['exp', 'iat', 'sub']) {
    if (c[name] === undefined) throw unauthorized(`the identity token is missing the "${name}" claim`);
  }
  if (typeof c.exp !== 'number' || typeof c.iat !== 'number')
    throw unauthorized('the identity token\'s "exp" and "iat" must be numbers');
  if (c.nbf !== undefined && typeof c.nbf !== 'number')
    throw unauthorized('the identity token\'s "nbf" must be a number');
  if (typeof c.sub !== 'string' || c.sub === '')
    throw unauthorized('the identity token\'s "sub" must be a non-empty string');
  if (c.iss !== issuer.issuerUrl)
    throw unauthorized(`the identity token's issuer must be ${issuer.issuerUrl}`);
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (!aud.includes(issuer.clientId))
    throw unauthorized(`the identity token's audience is wrong: expected "${issuer.clientId}"`);
  if (c.exp <= now - CLOCK_SKEW_SECONDS) throw unauthorized('the identity token has expired');
  if (typeof c.nbf === 'number' && c.nbf > now + CLOCK_SKEW_SECONDS)
    throw unauthorized('the identity token is not yet valid ("nbf" is in the future)');
  // A token issued in the future is as suspect as one with a future `nbf`.
  if (c.iat > now + CLOCK_SKEW_SECONDS)
    throw unauthorized('the identity token is not yet valid: "iat" is in the future');
  if (c.iat < now - MAX_TOKEN_AGE_SECONDS - CLOCK_SKEW_SECONDS)
    throw unauthorized(`the identity token was issued more than ${MAX_TOKEN_AGE_SECONDS} s ago ("iat")`);
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
  if (err instanceof errors.JWKSTimeout) return unavailable(`identity token: ${err.message}`);
  if (err instanceof errors.JOSENotSupported) return unauthorized(`identity token: ${err.message}`);
  if (err instanceof errors.JOSEError) return unauthorized(`the identity token is invalid: ${err.message}`);
  return unavailable(`could not fetch ${issuer.issuerUrl}'s keys: ${(err as Error).message}`);
}
