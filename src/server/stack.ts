// `sigil up`: every service in one process on one port (their wire paths don't collide: /v2/ registry,
// /api/v1|v2/ Fulcio and Rekor, /ct/ CT, /.well-known/ and /oidc/ the CI issuer), on the embedded defaults in one
// data dir, plus the files a shell or CI needs to use it: trust files, registry credentials, endpoints.json.
import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createCaService, SIGNING_CONFIG_FILE, TRUSTED_ROOT_FILE } from '../ca/index.js';
import { writeFileAtomic } from '../crypto/index.js';
import { createLogService, LOG_DIR, LOG_KEY_FILE } from '../log/index.js';
import { addUser, createRegistryService, registryRoot } from '../registry/index.js';
import { lateUrl, type RunningServer, startServer } from './app.js';
import type { Service, ServiceContext } from './service.js';

export interface StackOptions {
  dataDir: string;
  host?: string;
  port?: number;
  logLevel?: string;
  /** Base URL clients use when sigil sits behind a proxy; the listen address otherwise. */
  publicUrl?: string;
}

/** What `sigil up` writes to DIR/endpoints.json and prints: where everything is and how to point tools at it. */
export interface Endpoints {
  url: string;
  registry: string;
  fulcioUrl: string;
  rekorUrl: string;
  ctUrl: string;
  oidcIssuer: string;
  trustedRoot: string;
  signingConfig: string;
  registryAuthFile: string;
  registryUser: string;
  env: Record<string, string>;
}

export const ENDPOINTS_FILE = 'endpoints.json';
export const REGISTRY_AUTH_FILE = 'registry-auth.json';
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

export function endpointsFor(url: string, dataDir: string, login: RegistryLogin): Endpoints {
  const registry = new URL(url).host;
  const trustedRoot = join(dataDir, TRUSTED_ROOT_FILE);
  const registryAuthFile = join(dataDir, REGISTRY_AUTH_FILE);
  return {
    url,
    registry,
    fulcioUrl: url,
    rekorUrl: url,
    ctUrl: `${url}/ct`,
    oidcIssuer: url,
    trustedRoot,
    signingConfig: join(dataDir, SIGNING_CONFIG_FILE),
    registryAuthFile,
    registryUser: login.user,
    env: {
      SIGIL_URL: url,
      SIGIL_REGISTRY: registry,
      SIGIL_TRUSTED_ROOT: trustedRoot,
      SIGIL_FULCIO_URL: url,
      SIGIL_REKOR_URL: url,
      // skopeo, podman and sigil's registry client all read containers' auth file.
      REGISTRY_AUTH_FILE: registryAuthFile,
    },
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
  // The log first: it creates its key, which the CA names in trusted_root.json.
  const log = await createLogService(ctx);
  const logKeyPath = join(dataDir, LOG_DIR, LOG_KEY_FILE);
  const logPublicKey = createPublicKey(await readFile(logKeyPath, 'utf8'));
  const logValidFrom = new Date((await stat(logKeyPath)).mtimeMs - 60_000);
  const services: Service[] = [
    log,
    await createRegistryService(ctx, {}),
    await createCaService(ctx, { issuer: true, log: { publicKey: logPublicKey, validFrom: logValidFrom } }),
  ];
  const server = await startServer(services, {
    host: options.host,
    port: options.port,
    logLevel: options.logLevel,
    onUrl: (u) => url.set(options.publicUrl ?? u),
  });
  const endpoints = endpointsFor(url.get(), dataDir, login);
  const auth = Buffer.from(`${login.user}:${login.password}`).toString('base64');
  await writeFileAtomic(
    endpoints.registryAuthFile,
    `${JSON.stringify({ auths: { [endpoints.registry]: { auth } } }, null, 2)}\n`,
    {
      mode: 0o600,
    },
  );
  await writeFileAtomic(join(dataDir, ENDPOINTS_FILE), `${JSON.stringify(endpoints, null, 2)}\n`);
  return { server, endpoints };
}

/** The human summary `sigil up` prints: URLs, trust files and the exports a shell or CI needs. */
export function describeEndpoints(e: Endpoints): string {
  const lines = [
    `sigil is up at ${e.url}`,
    `  registry        ${e.registry} (user "${e.registryUser}", credentials in ${e.registryAuthFile})`,
    `  Fulcio CA       ${e.fulcioUrl}/api/v2/signingCert`,
    `  Rekor log       ${e.rekorUrl}/api/v1/log`,
    `  CT log          ${e.ctUrl}/v1/ (RFC 6962)`,
    `  OIDC issuer     ${e.oidcIssuer}/.well-known/openid-configuration`,
    `  trusted root    ${e.trustedRoot}`,
    `  signing config  ${e.signingConfig}`,
    '',
    'For a shell or CI job:',
    ...Object.entries(e.env).map(([k, v]) => `  export ${k}=${shellQuote(v)}`),
  ];
  return `${lines.join('\n')}\n`;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
