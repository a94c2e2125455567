// `<dataDir>/ca-config.json`: which OIDC issuers the CA trusts (the allow-list), plus a few service settings.
// Written with defaults on first start so an operator has a file to edit. Fulcio's own JSON config shape
// (`{"OIDCIssuers": {"<url>": {"IssuerURL", "ClientID", "Type", ...}}}`) is accepted too.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../crypto/index.js';
import { assertRateLimit, type RateLimit } from '../limits/index.js';
import { ISSUER_TYPES, type IssuerConfig, type IssuerType } from './identity.js';

export const CA_CONFIG_FILE = 'ca-config.json';
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
export const DEFAULT_AUDIENCE = 'sigstore';

/**
 * Issuers that mint tokens for anyone in the world: trusting one without an `allow` list would let every GitHub
 * repository, GitLab project or Google account get certificates from this CA, so the config must narrow it.
 */
export const PUBLIC_ISSUERS = [
  GITHUB_ACTIONS_ISSUER,
  'https://gitlab.com',
  'https://accounts.google.com',
  'https://oauth2.sigstore.dev/auth',
  'https://login.microsoftonline.com',
  'https://token.buildkite.com',
  'https://app.circleci.com',
];

export interface CaConfig {
  issuers: IssuerConfig[];
  /** Also trust sigil's own CI issuer at the server's public URL (type github-workflow). */
  allowOwnIssuer: boolean;
  /** The CI issuer mints tokens for any identity (POST /oidc/dev/token). Never in production. */
  oidcDevMode: boolean;
  /** Where clients reach the transparency log (signing_config.json); defaults to the server's own URL. */
  logUrl?: string;
  /**
   * The Rekor API signing_config.json sends signers to: 1 (the v1 log, signed entry timestamps) or 2 (the
   * tile-based v2 log and the TSA, cosign v3's current path). Both logs are in trusted_root.json either way.
   */
  rekorApiVersion?: 1 | 2;
  /** Per-client limit on signing requests (429 past it); `false` turns it off (benchmarks, a trusted proxy). */
  rateLimit: RateLimit | false;
}

/**
 * 10 certificates a second per client, 200 at once: a CI job signs a few artifacts per run, and a busy build farm
 * behind one address stays below it, while one client cannot take the CA's whole capacity (~2,000/s on 2 cores).
 */
export const DEFAULT_SIGNING_RATE_LIMIT: RateLimit = { perMinute: 600, burst: 200 };

/** By default only sigil's own CI issuer: public issuers are the operator's choice, each with an allow list. */
export function defaultCaConfig(): CaConfig {
  return {
    issuers: [],
    allowOwnIssuer: true,
    oidcDevMode: false,
    rateLimit: DEFAULT_SIGNING_RATE_LIMIT,
  };
}

function fail(msg: string): never {
  throw new Error(`${CA_CONFIG_FILE}: ${msg}`);
}

function parseIssuer(raw: Record<string, unknown>, where: string): IssuerConfig {
  const pick = (...keys: string[]) => keys.map((k) => raw[k]).find((v) => v !== undefined);
  const issuerUrl = pick('issuerUrl', 'IssuerURL', 'issuer-url');
  const type = pick('type', 'Type');
  const clientId = pick('clientId', 'ClientID', 'client-id', 'audience') ?? DEFAULT_AUDIENCE;
  if (typeof issuerUrl !== 'string' || !/^https?:\/\//.test(issuerUrl))
    fail(`${where}: issuerUrl must be an http(s) URL`);
  if (typeof type !== 'string' || !ISSUER_TYPES.includes(type as IssuerType))
    fail(`${where}: type must be one of ${ISSUER_TYPES.join(', ')}`);
  if (typeof clientId !== 'string' || clientId === '') fail(`${where}: clientId must be a non-empty string`);
  const subjectDomain = pick('subjectDomain', 'SubjectDomain', 'subject-domain');
  if ((type === 'uri' || type === 'username') && typeof subjectDomain !== 'string')
    fail(`${where}: a ${type} issuer needs subjectDomain`);
  const defaults = pick('defaults');
  const allow = pick('allow');
  if (allow !== undefined && (!Array.isArray(allow) || allow.some((a) => typeof a !== 'string' || a === '')))
    fail(`${where}: allow must be a list of non-empty patterns, e.g. ["acme/*"]`);
  if (allow === undefined && PUBLIC_ISSUERS.some((p) => issuerUrl.replace(/\/$/, '').startsWith(p)))
    fail(
      `${where}: ${issuerUrl} issues tokens to anyone; add "allow" with the ${type === 'github-workflow' || type === 'gitlab-pipeline' ? 'repositories (e.g. ["acme/*"])' : 'identities (e.g. ["*@example.com"])'} this CA may certify`,
    );
  return {
    issuerUrl,
    type: type as IssuerType,
    clientId,
    subjectDomain: typeof subjectDomain === 'string' ? subjectDomain : undefined,
    skipEmailVerification: pick('skipEmailVerification', 'SkipEmailVerification') === true,
    defaults: typeof defaults === 'object' && defaults ? (defaults as Record<string, string>) : undefined,
    allow: allow as string[] | undefined,
  };
}

export function parseCaConfig(json: unknown): CaConfig {
  if (typeof json !== 'object' || json === null) fail('not a JSON object');
  const o = json as Record<string, unknown>;
  const issuers: IssuerConfig[] = [];
  if (Array.isArray(o.issuers)) {
    for (const [i, raw] of o.issuers.entries()) issuers.push(parseIssuer(raw, `issuers[${i}]`));
  } else if (o.issuers !== undefined) fail('issuers must be an array');
  if (o.OIDCIssuers && typeof o.OIDCIssuers === 'object') {
    for (const [url, raw] of Object.entries(o.OIDCIssuers as Record<string, Record<string, unknown>>))
      issuers.push(parseIssuer({ IssuerURL: url, ...raw }, `OIDCIssuers[${url}]`));
  }
  const logUrl = o.logUrl;
  if (logUrl !== undefined && typeof logUrl !== 'string') fail('logUrl must be a string');
  const rekorApiVersion = o.rekorApiVersion;
  if (rekorApiVersion !== undefined && rekorApiVersion !== 1 && rekorApiVersion !== 2)
    fail('rekorApiVersion must be 1 or 2');
  let rateLimit: RateLimit | false = DEFAULT_SIGNING_RATE_LIMIT;
  if (o.rateLimit === false) rateLimit = false;
  else if (o.rateLimit !== undefined) {
    try {
      rateLimit = assertRateLimit({ ...DEFAULT_SIGNING_RATE_LIMIT, ...(o.rateLimit as object) }, 'rateLimit');
    } catch (err) {
      fail((err as Error).message);
    }
  }
  return {
    issuers,
    allowOwnIssuer: o.allowOwnIssuer !== false,
    oidcDevMode: o.oidcDevMode === true,
    logUrl,
    ...(rekorApiVersion === undefined ? {} : { rekorApiVersion }),
    rateLimit,
  };
}

/** Reads the config, writing the default one first if there is none. */
export async function loadCaConfig(dataDir: string): Promise<CaConfig> {
  const path = join(dataDir, CA_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await writeFileAtomic(path, `${JSON.stringify(defaultCaConfig(), null, 2)}\n`, { exclusive: true });
    text = await readFile(path, 'utf8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(`not valid JSON: ${(err as Error).message}`);
  }
  return parseCaConfig(json);
}
