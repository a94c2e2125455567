// `sigil up`: every service in one process on one port (their wire paths don't collide: /v2/ registry,
// /api/v1|v2/ Fulcio and Rekor v1, /api/v2/log|checkpoint|tile Rekor v2, /api/v1/timestamp the TSA, /ct/ CT,
// /.well-known/ and /oidc/ the CI issuer, /tuf/ the TUF repository, / and /explorer/ the explorer), on
// the embedded defaults in one data dir, plus the files a shell or CI needs to use it: trust files, registry
// credentials, endpoints.json.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../crypto/index.js';
import { readLogKey } from '../log/index.js';
import { TOKEN_PATH } from '../oidc/index.js';
import { addUser, registryRoot } from '../registry/index.js';
import type { Service, ServiceContext } from '../service/index.js';
import { safeDatabaseUrl } from '../storage/postgres/index.js';
import { createTsaService, TIMESTAMP_PATH } from '../tsa/index.js';
import { createTufService, TUF_PATH_PREFIX, tufRootPath } from '../tuf/index.js';
import { createWebService } from '../web/index.js';
import { lateUrl, type RunningServer, startServer } from './app.js';
import { createCaStack } from './ca-stack.js';
import { logService, logV2Service, registryService } from './storage.js';
import { SIGNING_CONFIG_FILE, TRUSTED_ROOT_FILE } from './trust-files.js';
import { trustTargets } from './trust-targets.js';

export interface StackOptions {
  dataDir: string;
  host?: string;
  port?: number;
  logLevel?: string;
  /** Where the JSON log lines go (standard output when unset). */
  logStream?: { write(line: string): void };
  /** Base URL clients use when sigil sits behind a proxy; the listen address otherwise. */
  publicUrl?: string;
  /** Let anyone pull from the registry without credentials (`--anonymous-pull`); else config.json decides. */
  anonymousPull?: boolean;
  /** Send signers to the Rekor v2 log and the TSA (`--rekor-v2`); else ca-config.json's rekorApiVersion decides. */
  rekorApiVersion?: 1 | 2;
}

/** What `sigil up` writes to DIR/endpoints.json and prints: where everything is and how to point tools at it. */
export interface Endpoints {
  url: string;
  registry: string;
  fulcioUrl: string;
  rekorUrl: string;
  ctUrl: string;
  /** The RFC 3161 timestamp endpoint (cosign's --timestamp-server-url). */
  tsaUrl: string;
  oidcIssuer: string;
  /** GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_URL for runners registered with `sigil oidc add-runner`. */
  tokenRequestUrl: string;
  dataDir: string;
  trustedRoot: string;
  signingConfig: string;
  /** The TUF mirror URL for `cosign initialize --mirror` / `sigil initialize --mirror`. */
  tufMirror: string;
  /** The repository's current root.json, the file those clients are given with --root. */
  tufRoot: string;
  registryAuthFile: string;
  registryUser: string;
  /** A file of `export NAME=value` lines: `. DIR/env` points a shell at this stack. */
  envFile: string;
  /** Holds `sigil` (a link to this checkout's command), which the env file puts first on PATH. */
  binDir: string;
  /** The `sigil up` process, for scripts that stop it (SIGTERM). */
  pid: number;
  env: Record<string, string>;
}

export const ENDPOINTS_FILE = 'endpoints.json';
export const REGISTRY_AUTH_FILE = 'registry-auth.json';
export const ENV_FILE = 'env';
/** The `sigil` command of the checkout or package this server runs from (bin/sigil.js, two levels up from here). */
const SIGIL_COMMAND = fileURLToPath(new URL('../../bin/sigil.js', import.meta.url));
const REGISTRY_USER = 'sigil';

interface RegistryLogin {
  user: string;
  password: string;
}

/** The registry's first user is created on first start; its password lives only in the data dir (0600). */
async function ensureRegistryLogin(dataDir: string): Promise<RegistryLogin> {
  const path = join(dataDir, 'registry-login.json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as RegistryLogin;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const login = { user: REGISTRY_USER, password: randomBytes(18).toString('base64url') };
  await mkdir(registryRoot(dataDir), { recursive: true });
  await addUser(registryRoot(dataDir), login.user, login.password);
  await writeFileAtomic(path, `${JSON.stringify(login)}\n`, { mode: 0o600 });
  return login;
}

/**
 * Where everything is, and the environment that makes the CLI use this stack with no flags: sign, verify and
 * `log` read the trust files from SIGIL_TRUSTED_ROOT / SIGIL_SIGNING_CONFIG (or SIGIL_TRUST_DIR, where the CA
 * keeps both up to date and the log client remembers the last checkpoint it saw) and the service URLs from
 * SIGIL_FULCIO_URL / SIGIL_REKOR_URL / SIGIL_OIDC_URL; the registry client, skopeo and podman read
 * REGISTRY_AUTH_FILE; `sigil up` and `sigil oidc` read SIGIL_DATA_DIR and SIGIL_URL.
 */
export function endpointsFor(url: string, dataDir: string, login: RegistryLogin): Endpoints {
  const registry = new URL(url).host;
  const trustedRoot = join(dataDir, TRUSTED_ROOT_FILE);
  const registryAuthFile = join(dataDir, REGISTRY_AUTH_FILE);
  const signingConfig = join(dataDir, SIGNING_CONFIG_FILE);
  return {
    url,
    registry,
    fulcioUrl: url,
    rekorUrl: url,
    ctUrl: `${url}/ct`,
    tsaUrl: `${url}${TIMESTAMP_PATH}`,
    oidcIssuer: url,
    tokenRequestUrl: `${url}${TOKEN_PATH}?api-version=2.0`,
    dataDir,
    trustedRoot,
    signingConfig,
    tufMirror: `${url}${TUF_PATH_PREFIX}`,
    tufRoot: tufRootPath(dataDir),
    registryAuthFile,
    registryUser: login.user,
    envFile: join(dataDir, ENV_FILE),
    binDir: join(dataDir, 'bin'),
    pid: process.pid,
    env: {
      SIGIL_URL: url,
      SIGIL_REGISTRY: registry,
      SIGIL_DATA_DIR: dataDir,
      SIGIL_TRUST_DIR: dataDir,
      SIGIL_TRUSTED_ROOT: trustedRoot,
      SIGIL_SIGNING_CONFIG: signingConfig,
      SIGIL_FULCIO_URL: url,
      SIGIL_REKOR_URL: url,
      SIGIL_OIDC_URL: url,
      REGISTRY_AUTH_FILE: registryAuthFile,
      // `sigil oidc …` keeps runners where the server reads them: in the database when there is one.
      ...(process.env.SIGIL_DATABASE_URL ? { SIGIL_DATABASE_URL: process.env.SIGIL_DATABASE_URL } : {}),
    },
  };
}

/**
 * The env file's text: one export per line, quoted for any POSIX shell, and `sigil` first on PATH, so that a
 * script calls it directly rather than through `npx`, which costs a few hundred milliseconds a call (#19).
 */
export function envFileText(e: Endpoints): string {
  const lines = Object.entries(e.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  lines.push(pathExport(e));
  return `# Written by \`sigil up\`: point a shell at this stack with  . ${shellQuote(e.envFile)}\n${lines.join('\n')}\n`;
}

function pathExport(e: Endpoints): string {
  return `export PATH=${shellQuote(e.binDir)}:"$PATH"`;
}

/** DIR/bin/sigil: a symbolic link to this checkout's command, replaced in one step (another up may be reading it). */
async function linkSigilCommand(binDir: string): Promise<void> {
  await mkdir(binDir, { recursive: true, mode: 0o700 });
  const link = join(binDir, 'sigil');
  const partial = `${link}.${process.pid}`;
  await rm(partial, { force: true });
  await symlink(SIGIL_COMMAND, partial);
  await rename(partial, link);
}

/**
 * Writes the files clients read (registry credentials, endpoints.json, the env file) once the URL is known and
 * before /healthz turns ready: it runs as the last service's `started` hook, so a client that saw /healthz
 * answer 200 always finds them.
 */
function clientFilesService(endpoints: () => Endpoints, login: RegistryLogin): Service {
  return {
    name: 'endpoints',
    async register() {},
    async started() {
      const e = endpoints();
      const auth = Buffer.from(`${login.user}:${login.password}`).toString('base64');
      const authFile = { auths: { [e.registry]: { auth } } };
      await writeFileAtomic(e.registryAuthFile, `${JSON.stringify(authFile, null, 2)}\n`, { mode: 0o600 });
      await writeFileAtomic(join(e.dataDir, ENDPOINTS_FILE), `${JSON.stringify(e, null, 2)}\n`);
      await linkSigilCommand(e.binDir);
      await writeFileAtomic(e.envFile, envFileText(e));
    },
    async close() {},
  };
}

export async function startStack(
  options: StackOptions,
): Promise<{ server: RunningServer; endpoints: Endpoints }> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const login = await ensureRegistryLogin(dataDir);
  const url = lateUrl();
  const ctx: ServiceContext = { dataDir, publicUrl: url.get };
  const endpoints = () => endpointsFor(url.get(), dataDir, login);
  // The log first: it creates its key, which the CA names in trusted_root.json.
  const log = await logService(ctx);
  const services: Service[] = [
    log,
    // Before the CA too: the v2 log names itself in log-v2/log.json and the TSA makes its chain, for the trust files.
    await logV2Service(ctx),
    await createTsaService(ctx),
    await registryService(ctx, { anonymousPull: options.anonymousPull || undefined }),
    await createCaStack(ctx, {
      issuer: true,
      log: await readLogKey(dataDir),
      ...(options.rekorApiVersion ? { config: { rekorApiVersion: options.rekorApiVersion } } : {}),
    }),
    // After the CA: its started hook writes the trust files this one publishes.
    await createTufService(ctx, { targets: trustTargets(dataDir) }),
    // The explorer at /: static assets; the page reads the logs above over their HTTP APIs.
    createWebService(),
    clientFilesService(endpoints, login),
  ];
  const server = await startServer(services, {
    host: options.host,
    port: options.port,
    logLevel: options.logLevel,
    logStream: options.logStream,
    onUrl: (u) => url.set(options.publicUrl ?? u),
  });
  return { server, endpoints: endpoints() };
}

/** The human summary `sigil up` prints: URLs, trust files and the exports a shell or CI needs. */
export function describeEndpoints(e: Endpoints): string {
  const lines = [
    `sigil is up at ${e.url}`,
    `  explorer        ${e.url}/ (search the log, verify entries in the browser)`,
    `  registry        ${e.registry} (user "${e.registryUser}", credentials in ${e.registryAuthFile})`,
    `  Fulcio CA       ${e.fulcioUrl}/api/v2/signingCert`,
    `  Rekor log       ${e.rekorUrl}/api/v1/log (v1), ${e.rekorUrl}/api/v2/checkpoint (v2, tiles)`,
    `  TSA             ${e.tsaUrl} (RFC 3161)`,
    `  CT log          ${e.ctUrl}/v1/ (RFC 6962)`,
    `  OIDC issuer     ${e.oidcIssuer}/.well-known/openid-configuration`,
    `  CI token        ACTIONS_ID_TOKEN_REQUEST_URL=${e.tokenRequestUrl} (runners: sigil oidc add-runner)`,
    `  trusted root    ${e.trustedRoot}`,
    `  signing config  ${e.signingConfig}`,
    `  TUF mirror      ${e.tufMirror} (root: ${e.tufRoot})`,
    '',
    `For a shell or CI job (or run:  . ${shellQuote(e.envFile)}):`,
    // The database's password stays in the env file (0600), out of terminals and logs.
    ...Object.entries(e.env).map(
      ([k, v]) => `  export ${k}=${shellQuote(k === 'SIGIL_DATABASE_URL' ? safeDatabaseUrl(v) : v)}`,
    ),
    `  ${pathExport(e)}`,
  ];
  return `${lines.join('\n')}\n`;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
