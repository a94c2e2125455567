// Registry credentials and challenges. Credentials come from flags or from the files docker, podman, skopeo and
// cosign users already have (docker `config.json`, containers `auth.json`: `auths[<host>].auth` = base64
// "user:password"), including docker's credential helpers (`credHelpers[<host>]`, else `credsStore`: the program
// `docker-credential-<name>`, asked with `get` and the server on stdin, answering {Username, Secret} as JSON;
// docker/docker-credential-helpers). Challenges are the `WWW-Authenticate` header of a 401 (RFC 7235 §4.1; distribution
// docs/spec/auth/token.md for the Bearer realm/service/scope parameters).
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_HUB, isDockerHub } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  /** Lower-cased scheme: "basic" or "bearer" (others are reported, not used). */
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate value into challenges. Handles quoted strings with backslash escapes, several
 * challenges in one header, and token68 values (kept under the key "").
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z/-]/.test(header[i])) i++;
    return header.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipSpace();
    if (header[i] === ',') {
      i++;
      continue;
    }
    const start = i;
    const token = readToken();
    if (!token) {
      i++; // skip a character we cannot make sense of rather than loop forever
      continue;
    }
    skipSpace();
    if (header[i] === '=' && current) {
      // auth-param of the current challenge
      i++;
      skipSpace();
      let value: string;
      if (header[i] === '"') {
        i++;
        let v = '';
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          v += header[i++];
        }
        i++; // closing quote
        value = v;
      } else {
        const vs = i;
        while (i < n && header[i] !== ',') i++;
        value = header.slice(vs, i).trim();
      }
      current.params[token.toLowerCase()] = value;
    } else {
      // a new challenge: scheme, then params (or a token68)
      current = { scheme: header.slice(start, start + token.length).toLowerCase(), params: {} };
      out.push(current);
      const t68 = /^[A-Za-z0-9._~+/-]+=*/.exec(header.slice(i));
      if (t68 && !/^[A-Za-z0-9._~+/-]+\s*=\s*[^=]/.test(header.slice(i)) && header[i] !== ',') {
        current.params[''] = t68[0];
        i += t68[0].length;
      }
    }
  }
  return out;
}

/** The files searched for credentials, most specific first (containers-auth.json(5), docker config docs). */
export function authFilePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  paths.push(join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json'));
  return paths;
}

/** `https://host/v1/` → `host`; `host/ns/repo` stays as is (containers auth.json allows per-repository keys). */
export function normalizeAuthKey(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/v[12]\/?$/, '')
    .replace(/\/+$/, '');
  // docker login keys Docker Hub as https://index.docker.io/v1/; references call it docker.io.
  return isDockerHub(host) ? DOCKER_HUB : host;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
}

/** Decodes one `auths` entry; undefined if it holds no usable user/password. */
export function decodeAuthEntry(entry: AuthEntry): Credentials | undefined {
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password !== undefined)
    return { username: entry.username, password: entry.password };
  return undefined;
}

/**
 * Picks the entry for `registry` (and `repository`) from an `auths` map: the longest key that is the registry
 * or a path prefix of `registry/repository` at a component boundary.
 */
export function pickAuth(
  auths: Record<string, AuthEntry>,
  registry: string,
  repository?: string,
): Credentials | undefined {
  const full = repository ? `${registry}/${repository}` : registry;
  let best: { len: number; creds: Credentials } | undefined;
  for (const [key, entry] of Object.entries(auths ?? {})) {
    const k = normalizeAuthKey(key);
    const matches =
      k === registry || k === full || (k.startsWith(`${registry}/`) && full.startsWith(`${k}/`));
    if (!matches) continue;
    const creds = decodeAuthEntry(entry ?? {});
    if (creds && (!best || k.length > best.len)) best = { len: k.length, creds };
  }
  return best?.creds;
}

interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** How long a credential helper may take (it may ask a keychain) before the lookup fails. */
const HELPER_TIMEOUT_MS = 30_000;

/**
 * Asks `docker-credential-<helper>` for the credentials of `server`. Undefined when it has none ("credentials not
 * found"); an error when the helper is missing or fails otherwise, as docker and cosign report it.
 */
export async function credentialsFromHelper(
  helper: string,
  server: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
    throw new Error(`invalid credential helper name ${JSON.stringify(helper)}`);
  }
  const program = `docker-credential-${helper}`;
  // Loaded here, not at the top: most runs have no helper, and child_process is start-up a short command pays for.
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      ['get'],
      { env, timeout: HELPER_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (err, stdout) => {
        if (err) {
          if (/credentials not found/i.test(stdout)) return resolve(undefined);
          const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found on PATH' : err.message;
          return reject(new Error(`credential helper ${program} failed for ${server}: ${why}`));
        }
        let answer: { Username?: unknown; Secret?: unknown };
        try {
          answer = JSON.parse(stdout);
        } catch {
          return reject(new Error(`credential helper ${program} did not answer JSON for ${server}`));
        }
        if (
          typeof answer.Username !== 'string' ||
          typeof answer.Secret !== 'string' ||
          answer.Secret === ''
        ) {
          return resolve(undefined);
        }
        resolve({ username: answer.Username, password: answer.Secret });
      },
    );
    child.stdin?.end(server);
  });
}

/** The credential helper a docker config names for `registry`: its own entry, else the default store. */
function helperFor(file: AuthFile, registry: string): string | undefined {
  for (const [key, helper] of Object.entries(file.credHelpers ?? {})) {
    if (normalizeAuthKey(key) === registry && typeof helper === 'string') return helper;
  }
  return typeof file.credsStore === 'string' && file.credsStore !== '' ? file.credsStore : undefined;
}

/**
 * Looks `registry` up in the auth files; the first file with a matching entry wins. Missing files are skipped.
 * In a file, a credential helper for the registry comes before its `auths` entry (docker's order).
 */
export async function credentialsFromAuthFiles(
  registry: string,
  repository?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  for (const path of authFilePaths(env)) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    let parsed: AuthFile;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`cannot parse registry auth file ${path}: ${(err as Error).message}`);
    }
    const helper = helperFor(parsed, registry);
    if (helper) {
      const fromHelper = await credentialsFromHelper(helper, registry, env);
      if (fromHelper) return fromHelper;
    }
    const creds = pickAuth(parsed.auths ?? {}, registry, repository);
    if (creds) return creds;
  }
  return undefined;
}

export function basicAuthorization(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}`;
}
