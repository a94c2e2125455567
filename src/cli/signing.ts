// Turning the signing flags every signing verb shares (cosign's KeyOpts: --key, --identity-token,
// --oidc-client-id, --fulcio-url, --rekor-url, --tlog-upload) into a SigningContext: a key file, or an identity
// token and a fresh CA certificate; and the witnesses the signing config names: the Rekor log (v1, or v2 with a
// TSA) unless logging is turned off, and a timestamp authority when there is one.
import type { Command } from 'commander';
import type { SigningContext, Witness } from '../sign/index.js';
import { info, parseBool, privateKeyRef, requireUrl, resolveServices, type ServiceFlags } from './context.js';

export interface SigningFlags extends ServiceFlags {
  key?: string;
  identityToken?: string;
  oidcClientId?: string;
  tlogUpload?: boolean;
  yes?: boolean;
}

/** Adds cosign's signing flags to a command. */
export function addSigningFlags(cmd: Command): Command {
  return cmd
    .option(
      '--key <path>',
      'sign with this private key (a file such as cosign.key, or env://VAR) instead of keyless',
    )
    .option(
      '--identity-token <token>',
      'identity token (or a file holding it) for the certificate; env SIGSTORE_ID_TOKEN',
    )
    .option('--oidc-client-id <id>', 'audience to request for ambient tokens', 'sigstore')
    .option(
      '--oidc-issuer <url>',
      'the identity token issuer (env SIGSTORE_OIDC_ISSUER; default: the signing config)',
    )
    .option('--fulcio-url <url>', 'CA address (default: from the signing config)')
    .option('--rekor-url <url>', 'transparency log address (default: from the signing config)')
    .option(
      '--timestamp-server-url <url>',
      'RFC 3161 timestamp authority to timestamp the signature (default: from the signing config)',
    )
    .option('--tlog-upload [bool]', 'upload the signature to the transparency log', parseBool, true)
    .option('--signing-config <file>', 'signing_config.json naming the services (default: the stored one)')
    .option('--trusted-root <file>', 'trusted_root.json (default: the stored one)')
    .option('-y, --yes', 'skip the confirmation prompt');
}

/** The signing context, and which Rekor API its log speaks (a v2 log signs images in cosign v3's bundle form). */
export type CliSigningContext = SigningContext & { rekorApiVersion?: 1 | 2 };

export async function signingContext(flags: SigningFlags): Promise<CliSigningContext> {
  const sign = await import('../sign/index.js');
  const services = await resolveServices(flags);
  const witnesses: Witness[] = [];
  const rekorApiVersionOf = () => (flags.tlogUpload === false ? undefined : services.rekorApiVersion);
  if (flags.tlogUpload !== false) {
    const url = requireUrl(services.rekorUrl, '--rekor-url', 'transparency log');
    if (services.rekorApiVersion === 2) {
      // A v2 log signs no entry timestamp: the time of signing must come from a TSA.
      if (!services.tsaUrl)
        throw new Error(
          `the signing config names a Rekor v2 log (${url}) but no timestamp authority; add tsaUrls to it or pass --timestamp-server-url`,
        );
      witnesses.push(sign.rekorV2Witness(url));
    } else witnesses.push(sign.rekorWitness(new sign.RekorClient(url)));
  }
  if (services.tsaUrl) witnesses.push(sign.tsaWitness(services.tsaUrl));
  if (flags.key) {
    const key = await privateKeyRef(flags.key);
    return { identity: sign.keyIdentity(key), witnesses, rekorApiVersion: rekorApiVersionOf() };
  }
  const fulcioUrl = requireUrl(services.fulcioUrl, '--fulcio-url', 'CA');
  const token = await sign.getIdentityToken({
    identityToken: flags.identityToken,
    audience: flags.oidcClientId,
    oidcUrl: services.oidcUrl,
  });
  if (token.source !== 'flag') info(`Using an identity token from ${token.source}`);
  const identity = await sign.keylessIdentity(fulcioUrl, token);
  return { identity, witnesses, rekorApiVersion: rekorApiVersionOf() };
}

/** The log entry line cosign prints after uploading. */
export function reportEntry(ctx: SigningContext, entry: { logIndex: number } | undefined): void {
  if (entry) info(`tlog entry created with index: ${entry.logIndex}`);
  else if (ctx.witnesses.length === 0) info('Skipping the transparency log upload (--tlog-upload=false)');
}
