// `sigil initialize --root URL-or-file` (cosign initialize, without TUF): stores trusted_root.json, and the
// signing_config.json found next to it, in the trust dir ($SIGIL_TRUST_DIR, $SIGIL_HOME or ~/.sigil). Later
// verbs read their trust and default service URLs from there.
import type { Command } from 'commander';
import { info } from '../context.js';

export function registerInitializeCommands(program: Command): void {
  program
    .command('initialize')
    .description('store the trusted root (and signing config) sign and verify use')
    .requiredOption('--root <url-or-file>', 'trusted_root.json file or URL, or a sigil server base URL')
    .option('--signing-config <url-or-file>', 'signing_config.json (default: the one next to --root, if any)')
    .action(async (flags: { root: string; signingConfig?: string }) => {
      const { fetchTrustConfig, saveTrustConfig, serviceUrls } = await import('../../trust/index.js');
      const fetched = await fetchTrustConfig(flags.root, flags.signingConfig);
      const saved = await saveTrustConfig(fetched.trustedRoot, fetched.signingConfig);
      for (const f of saved.files) info(`Wrote ${f}`);
      const urls = serviceUrls(fetched.signingConfig);
      if (fetched.signingConfig) {
        info(
          `CA: ${urls.caUrl ?? '(none)'}\nTransparency log: ${urls.rekorUrl ?? '(none)'}\nOIDC issuer: ${urls.oidcUrl ?? '(none)'}`,
        );
      } else {
        info('No signing_config.json found next to the root: pass --fulcio-url and --rekor-url when signing');
      }
    });
}
