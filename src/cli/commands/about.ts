// `sigil version` and `sigil env`, as cosign has them: what is running (version, Node, platform, whether the
// native signature check is built), and the environment variables the CLI reads with their current values,
// secrets masked (cosign `env` prints `******` for COSIGN_PASSWORD). Both answer without touching the network.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';

/** The package's root: the nearest folder up from this module (dist/cli/commands/, or dist/ when bundled) with sigil's package.json. */
function packageRoot(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 5; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"sigil"/.test(readFileSync(pkg, 'utf8'))) return dir;
    dir = dirname(dir);
  }
  return dir;
}
const PACKAGE_ROOT = packageRoot();

/** sigil's own version, from package.json (the one place it is written). */
export function sigilVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

/** Every variable the `sigil` CLI reads, with what it means (README "What the CLI reads from the environment"). */
export const CLI_ENVIRONMENT: [name: string, meaning: string, secret?: boolean][] = [
  ['SIGIL_TRUST_DIR', 'where trusted_root.json and signing_config.json are (default ~/.sigil)'],
  ['SIGIL_HOME', 'the trust dir, as SIGIL_TRUST_DIR (older name)'],
  ['SIGIL_TRUSTED_ROOT', 'trusted_root.json by path (like --trusted-root)'],
  ['SIGIL_SIGNING_CONFIG', 'signing_config.json by path (like --signing-config)'],
  ['SIGIL_FULCIO_URL', 'the CA (like --fulcio-url)'],
  ['SIGIL_REKOR_URL', 'the transparency log (like --rekor-url)'],
  ['SIGSTORE_FULCIO_URL', 'the CA, as cosign reads it (wins over SIGIL_FULCIO_URL)'],
  ['SIGSTORE_REKOR_URL', 'the transparency log, as cosign reads it (wins over SIGIL_REKOR_URL)'],
  ['SIGSTORE_OIDC_ISSUER', 'the identity token issuer, as cosign reads it (wins over SIGIL_OIDC_URL)'],
  ['SIGIL_OIDC_URL', "sigil's CI issuer (for SIGIL_OIDC_REQUEST_TOKEN)"],
  ['REKOR_REKOR_SERVER', 'the transparency log for `sigil log`, as rekor-cli reads it'],
  ['SIGSTORE_ID_TOKEN', 'an identity token as is (like --identity-token)', true],
  ['ACTIONS_ID_TOKEN_REQUEST_URL', "GitHub Actions' (or sigil's CI issuer's) token request URL"],
  ['ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'the secret for that request', true],
  ['COSIGN_PASSWORD', 'the password of an encrypted key file', true],
  ['COSIGN_YES', 'skip confirmation prompts (like --yes)'],
  ['COSIGN_REPOSITORY', 'where signatures are stored instead of next to the image'],
  ['REGISTRY_AUTH_FILE', "containers' registry auth file"],
  ['DOCKER_CONFIG', "docker's config dir (config.json: auths, credHelpers, credsStore)"],
  ['SIGIL_DATA_DIR', 'the data dir of sigil up / serve / oidc'],
  ['SIGIL_URL', "the stack's base URL (sigil oidc)"],
  ['SIGIL_PORT', 'where sigil up listens (0: a free port)'],
  ['SIGIL_HOST', 'the address sigil up listens on'],
  ['SIGIL_NATIVE', '0 turns the native signature check off'],
  ['SIGIL_DEBUG', 'print HTTP request lines and stack traces (as -d/--verbose)'],
];

/** cosign's env flags are booleans as Go's strconv.ParseBool reads them. */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value);
}

export function registerAboutCommands(program: Command): void {
  program
    .command('version')
    .description("print sigil's version and what it runs on")
    .option('--json', 'as JSON')
    .action((o: { json?: boolean }) => {
      const info = {
        version: sigilVersion(),
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
        nativeSignatureCheck: existsSync(join(PACKAGE_ROOT, 'build', 'Release', 'sigil_native.node')),
      };
      if (o.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else
        process.stdout.write(
          `sigil ${info.version}\nNode.js ${info.node}\nPlatform ${info.platform}\nNative signature check: ${info.nativeSignatureCheck ? 'built' : 'not built (JavaScript fallback)'}\n`,
        );
    });
  program
    .command('env')
    .description('print the environment variables sigil reads, with their values (secrets masked)')
    .option('--show-descriptions', 'also say what each one means')
    .action((o: { showDescriptions?: boolean }) => {
      for (const [name, meaning, secret] of CLI_ENVIRONMENT) {
        const value = process.env[name];
        const shown = value === undefined ? '' : secret ? '******' : value;
        if (o.showDescriptions) process.stdout.write(`# ${meaning}\n`);
        process.stdout.write(`${name}=${shown}\n`);
      }
    });
}
