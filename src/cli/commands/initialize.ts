// `sigil initialize`: stores trusted_root.json and signing_config.json in the trust dir ($SIGIL_TRUST_DIR,
// $SIGIL_HOME or ~/.sigil), where later verbs read their trust and default service URLs. Two ways, as cosign:
//   --mirror URL --root root.json   a TUF client (cosign initialize): both files verified through the repository
//   --root URL-or-file              the trusted root as is (a file, its URL, or a sigil base URL), unsigned
import type { Command } from 'commander';
import { info, warn } from '../context.js';

interface InitializeFlags {
  root?: string;
  mirror?: string;
  rootChecksum?: string;
  signingConfig?: string;
  insecure?: boolean;
}

export function registerInitializeCommands(program: Command): void {
  program
    .command('initialize')
    .description('store the trusted root (and signing config) sign and verify use')
    .option(
      '--root <url-or-file>',
      'with --mirror: the TUF root.json to start from; without: trusted_root.json file or URL, or a sigil base URL',
    )
    .option(
      '--mirror <url>',
      'a TUF repository (e.g. <sigil url>/tuf, or an exported copy) to take trust from',
    )
    .option('--root-checksum <sha256>', 'with --mirror: the SHA-256 the --root file must have')
    .option('--signing-config <url-or-file>', 'signing_config.json (default: the one next to --root, if any)')
    .option('--insecure', 'allow unverified trust files over plain http from a non-loopback host')
    .action(async (flags: InitializeFlags) => {
      const trust = await import('../../trust/index.js');
      let fetched: { trustedRoot: unknown; signingConfig?: unknown };
      if (flags.mirror !== undefined) {
        if (flags.signingConfig)
          throw new Error('--signing-config comes from the TUF repository with --mirror');
        if (flags.root && /^https:\/\//i.test(flags.root) && !flags.rootChecksum)
          warn(`trusting the TUF root as ${flags.root} serves it: pin it with --root-checksum`);
        const m = await trust.fetchTrustFromMirror({
          mirror: flags.mirror,
          root: flags.root,
          rootChecksum: flags.rootChecksum,
          insecure: flags.insecure,
        });
        info(`TUF repository ${trust.mirrorUrl(flags.mirror)}: root version ${m.rootVersion}`);
        fetched = m;
      } else {
        if (!flags.root) throw new Error('pass --root <url-or-file>, or --mirror <url> --root <root.json>');
        if (flags.rootChecksum) throw new Error('--root-checksum pins a TUF root: use it with --mirror');
        fetched = await trust.fetchTrustConfig(flags.root, flags.signingConfig, { insecure: flags.insecure });
      }
      const saved = await trust.saveTrustConfig(fetched.trustedRoot, fetched.signingConfig);
      for (const f of saved.files) info(`Wrote ${f}`);
      const urls = trust.serviceUrls(fetched.signingConfig);
      if (fetched.signingConfig) {
        info(
          `CA: ${urls.caUrl ?? '(none)'}\nTransparency log: ${urls.rekorUrl ?? '(none)'}\nOIDC issuer: ${urls.oidcUrl ?? '(none)'}`,
        );
      } else {
        info(
          `${flags.mirror ? 'The TUF repository publishes no signing config' : 'No signing_config.json found next to the root'}: pass --fulcio-url and --rekor-url when signing`,
        );
      }
    });
}
