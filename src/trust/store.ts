// Where the CLI keeps the trust configuration it was initialised with: trusted_root.json (what to trust) and
// signing_config.json (where the CA, log and issuer are), in $SIGIL_TRUST_DIR, else $SIGIL_HOME, else ~/.sigil.
// Writes are atomic renames of whole files, so parallel runs never see a torn file and need no lock; reads need
// nothing writable, so a read-only home works once initialised (or with --trusted-root / SIGIL_TRUST_DIR).
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../crypto/index.js';
import { type HttpResponse, request } from '../net/index.js';

/**
 * The protobuf-specs based validators load in ~100 ms, more than a whole `sigil sign` should spend starting up:
 * they are imported only where a document is validated, and service URLs are read from the JSON directly.
 */
async function validators() {
  return import('./trusted-root.js');
}

export const TRUST_ROOT_FILE_NAME = 'trusted_root.json';
export const SIGNING_CONFIG_FILE_NAME = 'signing_config.json';

export function trustDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SIGIL_TRUST_DIR || env.SIGIL_HOME || join(homedir(), '.sigil');
}

export interface TrustConfig {
  /** The trusted_root.json document (parsed JSON, validated). */
  trustedRoot: unknown;
  /** The signing_config.json document, when there is one. */
  signingConfig?: unknown;
  /** Where they were read from. */
  trustedRootPath: string;
  signingConfigPath?: string;
}

async function readJson(path: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not JSON: ${(err as Error).message}`);
  }
}

export interface LoadTrustOptions {
  /** --trusted-root FILE, overriding the stored one. */
  trustedRootPath?: string;
  /** --signing-config FILE. */
  signingConfigPath?: string;
  env?: NodeJS.ProcessEnv;
  /** When false, a missing trusted root is not an error (signing needs only the signing config). */
  requireTrustedRoot?: boolean;
}

/** Loads the trust configuration: explicit files first, then the store. */
export async function loadTrustConfig(options: LoadTrustOptions = {}): Promise<TrustConfig | undefined> {
  const dir = trustDir(options.env);
  const rootPath = options.trustedRootPath ?? join(dir, TRUST_ROOT_FILE_NAME);
  const scPath = options.signingConfigPath ?? join(dir, SIGNING_CONFIG_FILE_NAME);
  const [trustedRoot, signingConfig] = await Promise.all([readJson(rootPath), readJson(scPath)]);
  if (options.signingConfigPath && signingConfig === undefined) throw new Error(`${scPath} does not exist`);
  if (trustedRoot === undefined) {
    if (options.trustedRootPath) throw new Error(`${rootPath} does not exist`);
    if (options.requireTrustedRoot !== false) {
      throw new Error(
        `no trusted root in ${dir}: run \`sigil initialize --root <URL or file>\`, pass --trusted-root FILE, or set SIGIL_TRUST_DIR`,
      );
    }
    if (signingConfig === undefined) return undefined;
  } else if (options.requireTrustedRoot !== false) {
    (await validators()).parseTrustedRoot(trustedRoot);
  }
  return {
    trustedRoot,
    signingConfig,
    trustedRootPath: rootPath,
    signingConfigPath: signingConfig === undefined ? undefined : scPath,
  };
}

/** Stores trust files in the trust dir (created if absent), each by an atomic rename. */
export async function saveTrustConfig(
  trustedRoot: unknown,
  signingConfig: unknown | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ dir: string; files: string[] }> {
  const { parseSigningConfig, parseTrustedRoot } = await validators();
  parseTrustedRoot(trustedRoot);
  if (signingConfig !== undefined) parseSigningConfig(signingConfig);
  const dir = trustDir(env);
  await mkdir(dir, { recursive: true });
  const files = [join(dir, TRUST_ROOT_FILE_NAME)];
  await writeFileAtomic(files[0], `${JSON.stringify(trustedRoot, null, 2)}\n`);
  if (signingConfig !== undefined) {
    files.push(join(dir, SIGNING_CONFIG_FILE_NAME));
    await writeFileAtomic(files[1], `${JSON.stringify(signingConfig, null, 2)}\n`);
  }
  return { dir, files };
}

export interface ServiceUrls {
  caUrl?: string;
  rekorUrl?: string;
  /** The Rekor API the chosen log speaks: 1 (SETs) or 2 (tiles; signing then needs a TSA). */
  rekorApiVersion?: 1 | 2;
  oidcUrl?: string;
  tsaUrl?: string;
}

interface ServiceJson {
  url?: unknown;
  majorApiVersion?: unknown;
  validFor?: { start?: unknown; end?: unknown };
}

/**
 * The API major versions sigil's clients speak, the preferred first: Fulcio's v2 HTTP API is listed as CA version
 * 1; Rekor v2 before v1 (a client picks the highest version it supports, protobuf-specs SigningConfig).
 */
const SUPPORTED_API_VERSIONS: Record<string, number[]> = {
  caUrls: [1],
  rekorTlogUrls: [2, 1],
  oidcUrls: [1],
  tsaUrls: [1],
};

/**
 * The first service of each kind valid now and of an API version we speak (sigstore_trustroot.proto
 * SigningConfig: Service.valid_for, Service.major_api_version), read from the JSON mapping (v0.2: caUrls,
 * rekorTlogUrls, oidcUrls, tsaUrls, each a list of {url, majorApiVersion, validFor: {start, end}}). A v0.1
 * config (caUrl, oidcUrl, tlogUrls, tsaUrls as plain URLs) is read too, so root-signing's older file works.
 */
export function serviceUrls(signingConfig: unknown | undefined, now = new Date()): ServiceUrls {
  if (typeof signingConfig !== 'object' || signingConfig === null) return {};
  const sc = signingConfig as Record<string, unknown>;
  const valid = (key: string): { url: string; version: number }[] => {
    const list = Array.isArray(sc[key]) ? (sc[key] as ServiceJson[]) : [];
    const at = (v: unknown) => (typeof v === 'string' ? new Date(v) : undefined);
    return list.flatMap((s) => {
      if (typeof s?.url !== 'string') return [];
      // An absent version is proto3's default (0) in older files; treat it as the first version.
      const version = typeof s.majorApiVersion === 'number' && s.majorApiVersion > 0 ? s.majorApiVersion : 1;
      if (!SUPPORTED_API_VERSIONS[key].includes(version)) return [];
      const start = at(s.validFor?.start);
      const end = at(s.validFor?.end);
      return (!start || start <= now) && (!end || now <= end) ? [{ url: s.url, version }] : [];
    });
  };
  /** The first valid service of the most preferred version. */
  const best = (key: string) => {
    const found = valid(key);
    for (const version of SUPPORTED_API_VERSIONS[key]) {
      const hit = found.find((s) => s.version === version);
      if (hit) return hit;
    }
    return undefined;
  };
  const pick = (key: string): string | undefined => best(key)?.url;
  const v01 = (value: unknown): string | undefined =>
    typeof value === 'string'
      ? value
      : Array.isArray(value) && typeof value[0] === 'string'
        ? value[0]
        : undefined;
  const rekor = best('rekorTlogUrls');
  return {
    caUrl: pick('caUrls') ?? v01(sc.caUrl),
    rekorUrl: rekor?.url ?? v01(sc.tlogUrls),
    rekorApiVersion: rekor ? (rekor.version as 1 | 2) : v01(sc.tlogUrls) ? 1 : undefined,
    oidcUrl: pick('oidcUrls') ?? v01(sc.oidcUrl),
    tsaUrl: pick('tsaUrls') ?? v01(sc.tsaUrls),
  };
}

export interface FetchedTrust {
  trustedRoot: unknown;
  signingConfig?: unknown;
  /** Where each came from. */
  sources: string[];
}

/** How long `sigil initialize` waits for each trust file. */
const FETCH_TIMEOUT_MS = 30_000;

/** Loopback names: plain http to them never leaves the machine. */
function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Refuses plain http for a file whose contents are trusted as fetched (a trusted root, a signing config, a first
 * TUF root without a checksum): anyone on the path could substitute their own. Loopback is exempt (nothing on
 * the path; Docker treats localhost registries the same way), and --insecure lifts the rule. Files that are
 * verified after the fetch (TUF metadata and targets) may come over http.
 */
export function checkTransport(url: string, o: { insecure?: boolean; what: string }): void {
  const u = new URL(url);
  if (u.protocol !== 'http:' || o.insecure || isLoopback(u.hostname)) return;
  throw new Error(
    `refusing to fetch ${o.what} over plain http from ${u.host}: use https, or pass --insecure if this network is trusted`,
  );
}

async function getJson(url: string, optional: boolean, insecure?: boolean): Promise<unknown | undefined> {
  let res: HttpResponse;
  let text: string;
  checkTransport(url, { insecure, what: url });
  try {
    res = await request(url, { headers: { accept: 'application/json' }, timeoutMs: FETCH_TIMEOUT_MS });
    text = await res.text();
  } catch (err) {
    throw new Error(`cannot fetch ${url}: ${(err as Error).message}`, { cause: err });
  }
  checkTransport(res.url, { insecure, what: `${url} (redirected to ${res.url})` });
  if (optional && res.status === 404) return undefined;
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${url} is not JSON`);
  }
}

/**
 * `sigil initialize --root X`: X is a trusted_root.json file, its URL, or a sigil base URL. Next to it (same
 * directory or base) a signing_config.json is picked up when there is one; `signingConfig` names it explicitly.
 */
export async function fetchTrustConfig(
  root: string,
  signingConfig?: string,
  o: { insecure?: boolean } = {},
): Promise<FetchedTrust> {
  const isUrl = /^https?:\/\//i.test(root);
  const sources: string[] = [];
  let trustedRoot: unknown;
  let sc: unknown | undefined;
  if (isUrl) {
    const u = new URL(root);
    const rootUrl = u.pathname.endsWith('.json')
      ? u.toString()
      : new URL(`${u.pathname.replace(/\/?$/, '/')}${TRUST_ROOT_FILE_NAME}`, u).toString();
    trustedRoot = await getJson(rootUrl, false, o.insecure);
    sources.push(rootUrl);
    if (!signingConfig) {
      const scUrl = new URL(SIGNING_CONFIG_FILE_NAME, rootUrl).toString();
      sc = await getJson(scUrl, true, o.insecure);
      if (sc !== undefined) sources.push(scUrl);
    }
  } else {
    trustedRoot = await readJson(root);
    if (trustedRoot === undefined) throw new Error(`${root} does not exist`);
    sources.push(root);
    if (!signingConfig) {
      const sibling = join(root, '..', SIGNING_CONFIG_FILE_NAME);
      sc = await readJson(sibling);
      if (sc !== undefined) sources.push(sibling);
    }
  }
  if (signingConfig) {
    sc = /^https?:\/\//i.test(signingConfig)
      ? await getJson(signingConfig, false, o.insecure)
      : await readJson(signingConfig);
    if (sc === undefined) throw new Error(`${signingConfig} does not exist`);
    sources.push(signingConfig);
  }
  const { parseSigningConfig, parseTrustedRoot } = await validators();
  parseTrustedRoot(trustedRoot);
  if (sc !== undefined) parseSigningConfig(sc);
  return { trustedRoot, signingConfig: sc, sources };
}

export const LOG_STATE_FILE_NAME = 'log_state.json';

/** The last verified checkpoint seen per log (hex log ID), so that a later one can be checked for consistency. */
export type LogState = Record<string, { treeSize: number; rootHash: string; origin: string }>;

export async function readLogState(env: NodeJS.ProcessEnv = process.env): Promise<LogState> {
  const json = await readJson(join(trustDir(env), LOG_STATE_FILE_NAME)).catch(() => undefined);
  return typeof json === 'object' && json !== null ? (json as LogState) : {};
}

/** Best effort: a read-only trust dir only loses the memory of the last checkpoint (reported by the caller). */
export async function writeLogState(state: LogState, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const dir = trustDir(env);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, LOG_STATE_FILE_NAME), `${JSON.stringify(state, null, 2)}\n`);
}
