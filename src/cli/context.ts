// What the sign/verify/log verbs share: cosign-style flag parsing helpers, the trust configuration (stored by
// `sigil initialize`, or --trusted-root / --signing-config), service URLs defaulting from the signing config,
// and a registry client that warns on stderr. Heavy modules are imported lazily so `sigil --help` stays fast.

import type { RegistryClient } from '../oci/index.js';
import type { TrustMaterial } from '../verify/index.js';
import { envFlag } from './commands/about.js';

export interface TrustFlags {
  trustedRoot?: string;
  signingConfig?: string;
}

export interface ServiceFlags extends TrustFlags {
  fulcioUrl?: string;
  rekorUrl?: string;
  /** cosign's --timestamp-server-url: an RFC 3161 TSA to timestamp the signature. */
  timestampServerUrl?: string;
  /** cosign's --oidc-issuer: where identity tokens come from (sigil's CI issuer, for SIGIL_OIDC_REQUEST_TOKEN). */
  oidcIssuer?: string;
}

export interface RegistryFlags {
  allowInsecureRegistry?: boolean;
  allowHttpRegistry?: boolean;
  registryUsername?: string;
  registryPassword?: string;
}

/** Commander parser for cosign's `--flag=false` booleans (cobra accepts true/false/1/0). */
export function parseBool(value: string | undefined): boolean {
  if (value === undefined) return true;
  const v = value.toLowerCase();
  if (['true', '1', 't', 'yes'].includes(v)) return true;
  if (['false', '0', 'f', 'no'].includes(v)) return false;
  throw new Error(`invalid boolean "${value}" (true or false)`);
}

/** Commander collector for repeatable flags. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** cosign's -a key=value annotations. */
export function parseAnnotations(values: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new Error(`annotation "${v}" must be key=value`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

export function info(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`WARNING: ${message}\n`);
}

/** --trusted-root / --signing-config, else what `sigil up` exports (SIGIL_TRUSTED_ROOT, SIGIL_SIGNING_CONFIG). */
function trustPaths(flags: TrustFlags) {
  return {
    trustedRootPath: flags.trustedRoot ?? (process.env.SIGIL_TRUSTED_ROOT || undefined),
    signingConfigPath: flags.signingConfig ?? (process.env.SIGIL_SIGNING_CONFIG || undefined),
  };
}

/** Trust material for offline verification: --trusted-root, else the stored trusted_root.json. */
export async function loadTrust(flags: TrustFlags): Promise<TrustMaterial> {
  const { loadTrustConfig } = await import('../trust/index.js');
  const { loadTrustMaterial } = await import('../verify/index.js');
  const config = await loadTrustConfig(trustPaths(flags));
  return loadTrustMaterial(config!.trustedRoot);
}

export interface ResolvedServices {
  fulcioUrl?: string;
  rekorUrl?: string;
  /** 2 when the signing config names a Rekor v2 log (and no --rekor-url overrides it). */
  rekorApiVersion?: 1 | 2;
  oidcUrl?: string;
  tsaUrl?: string;
}

/** The first of `values` that is set and not empty (an empty variable is an unset one, as cosign reads them). */
function firstSet(...values: (string | undefined)[]): string | undefined {
  return values.find((v) => v !== undefined && v !== '');
}

/**
 * Service URLs, each from the first that gives one (docs/cli.md "Where the service URLs come from"): the flag;
 * cosign's own variable (SIGSTORE_REKOR_URL, SIGSTORE_FULCIO_URL, SIGSTORE_OIDC_ISSUER), so a cosign script's
 * environment means the same to sigil; sigil's variable (SIGIL_*, which `sigil up`'s env file exports); the
 * signing config (`sigil initialize`, --signing-config, SIGIL_SIGNING_CONFIG).
 */
export async function resolveServices(flags: ServiceFlags): Promise<ResolvedServices> {
  const { loadTrustConfig, serviceUrls } = await import('../trust/index.js');
  const config = await loadTrustConfig({ ...trustPaths(flags), requireTrustedRoot: false });
  const urls = serviceUrls(config?.signingConfig);
  const env = process.env;
  const rekorOverride = firstSet(flags.rekorUrl, env.SIGSTORE_REKOR_URL, env.SIGIL_REKOR_URL);
  return {
    fulcioUrl: firstSet(flags.fulcioUrl, env.SIGSTORE_FULCIO_URL, env.SIGIL_FULCIO_URL, urls.caUrl),
    // A log URL given by flag or environment is a Rekor v1 log, as cosign's --rekor-url is, unless it is the one
    // the signing config names (sigil up's env exports SIGIL_REKOR_URL, and its one URL serves v1 and v2).
    rekorUrl: rekorOverride ?? urls.rekorUrl,
    rekorApiVersion: rekorOverride && rekorOverride !== urls.rekorUrl ? 1 : urls.rekorApiVersion,
    oidcUrl: firstSet(flags.oidcIssuer, env.SIGSTORE_OIDC_ISSUER, env.SIGIL_OIDC_URL, urls.oidcUrl),
    tsaUrl: firstSet(flags.timestampServerUrl, urls.tsaUrl),
  };
}

export function requireUrl(value: string | undefined, flag: string, what: string): string {
  if (!value) {
    throw new Error(
      `no ${what} URL: pass ${flag} or run \`sigil initialize --root <URL>\` to get a signing_config.json`,
    );
  }
  return value;
}

export async function registryClient(flags: RegistryFlags): Promise<RegistryClient> {
  const { RegistryClient } = await import('../oci/index.js');
  const credentials =
    flags.registryUsername !== undefined
      ? { username: flags.registryUsername, password: flags.registryPassword ?? '' }
      : undefined;
  return new RegistryClient({
    insecure: flags.allowInsecureRegistry || flags.allowHttpRegistry ? true : undefined,
    ...(credentials ? { credentials } : {}),
    onWarning: warn,
  });
}

/** Reads a whole file, or standard input for "-"; a failure names the file (Node leaves it out of EISDIR). */
export async function readInput(path: string): Promise<Buffer> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
  const { readFile } = await import('node:fs/promises');
  return readFile(path).catch((err: NodeJS.ErrnoException) => {
    err.path ??= path;
    throw err;
  });
}

/**
 * The text of a --key reference: `env://VAR` reads the key from that environment variable (cosign's form, for
 * CI secrets), anything else is a file.
 */
export async function readKeyRef(ref: string): Promise<string> {
  if (ref.startsWith('env://')) {
    const name = ref.slice('env://'.length);
    const value = process.env[name];
    if (!name || value === undefined || value === '') {
      const { CliError } = await import('./errors.js');
      throw new CliError(`--key ${ref}: the environment variable ${name || '(none)'} is not set or empty`);
    }
    return value;
  }
  return (await readInput(ref)).toString('utf8');
}

/** A private key named by --key (file or env://VAR), asking for its password when it is encrypted. */
export async function privateKeyRef(ref: string) {
  const { keyNeedsPassword, privateKeyFromPem } = await import('../sign/index.js');
  const text = await readKeyRef(ref);
  return privateKeyFromPem(text, keyNeedsPassword(text) ? await password() : undefined, ref);
}

/** A public key named by --key (file, certificate, or env://VAR). */
export async function publicKeyRef(ref: string) {
  const { publicKeyFromPem } = await import('../sign/index.js');
  return publicKeyFromPem(await readKeyRef(ref), ref);
}

export async function writeOutput(path: string, data: string | Uint8Array): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, data, { mode: 0o644 }).catch((err: NodeJS.ErrnoException) => {
    err.path ??= path;
    throw err;
  });
}

/** COSIGN_PASSWORD, else a prompt on the terminal (input hidden), else an error. */
export async function password(confirm = false): Promise<string> {
  const env = process.env.COSIGN_PASSWORD;
  if (env !== undefined) return env;
  if (!process.stdin.isTTY) throw new Error('set COSIGN_PASSWORD (no terminal to ask for the key password)');
  const ask = async (q: string) => {
    const { createInterface } = await import('node:readline');
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
    out._writeToOutput = (s: string) => {
      if (s.includes(q)) process.stderr.write(s);
    };
    return new Promise<string>((resolve) =>
      rl.question(q, (answer) => {
        rl.close();
        process.stderr.write('\n');
        resolve(answer);
      }),
    );
  };
  const first = await ask('Enter password for private key: ');
  if (confirm) {
    const again = await ask('Enter password for private key again: ');
    if (again !== first) throw new Error('passwords do not match');
  }
  return first;
}

/** cosign's transparency-log notice, and its [y/N] question on a terminal unless --yes or COSIGN_YES. */
export async function confirmUpload(yes: boolean, uploading: boolean): Promise<void> {
  if (yes || envFlag(process.env.COSIGN_YES) || !uploading) return;
  info(
    'Note that there may be personally identifiable information associated with this signed artifact.\n' +
      'This may include the email address associated with the account with which you authenticate.\n' +
      'This information will be used for signing this artifact and will be stored in the transparency log.',
  );
  if (!process.stdin.isTTY) return;
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    "By typing 'y', you attest that you grant (or have permission to grant) and agree to have this information stored permanently in transparency logs.\nAre you sure you would like to continue? [y/N] ",
  );
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new Error('signing abandoned');
}
