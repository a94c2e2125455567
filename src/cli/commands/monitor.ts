// `sigil monitor`: watch a transparency log for signatures made as your identity (src/monitor/). It follows the
// log's tiles from a state file, verifies every checkpoint and its consistency with the last, and reports matching
// entries as text or JSON lines, by exit code (1 a match, 2 an alarm: the log forked or its checkpoint is bad) and
// optionally by POSTing each event to a webhook.
import type { Command } from 'commander';
import { collect, loadTrust, type TrustFlags } from '../context.js';

interface MonitorFlags extends TrustFlags {
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
  oid: string[];
  githubRepository?: string;
  logUrl?: string;
  rekorV2?: boolean;
  ct?: boolean;
  ctUrl?: string;
  logKey?: string;
  state: string;
  once?: boolean;
  json?: boolean;
  webhook?: string;
  interval: string;
}

/** Fulcio's Source Repository URI extension, which --github-repository sets. */
const SOURCE_REPOSITORY_URI = '1.3.6.1.4.1.57264.1.12';

/** The tiles prefix: --log-url, else this stack's v1 log (/tlog) or v2 log (/api/v2); with --ct, the CT log's. */
function logUrl(flags: MonitorFlags): string {
  if (flags.ctUrl) return flags.ctUrl.replace(/\/+$/, '');
  if (flags.logUrl) return flags.logUrl.replace(/\/+$/, '');
  const base = process.env.SIGIL_REKOR_URL ?? process.env.SIGIL_URL;
  if (!base)
    throw new Error('give --log-url (the log tiles prefix), or set SIGIL_REKOR_URL (`. DATA_DIR/env`)');
  // RFC 6962 §4: a CT log's API is under <prefix>/ct/v1/, and sigil serves its CT log at the root's /ct/v1/.
  if (flags.ct) return base.replace(/\/+$/, '');
  return `${base.replace(/\/+$/, '')}${flags.rekorV2 ? '/api/v2' : '/tlog'}`;
}

export function registerMonitorCommands(program: Command): void {
  program
    .command('monitor')
    .description(
      'watch a transparency log for entries signed as an identity (reads its tiles; verifies checkpoints)',
    )
    .option('--identity <san>', 'the certificate identity (email or URI SAN) to watch')
    .option('--identity-regexp <re>', 'a regular expression over SANs to watch')
    .option('--issuer <url>', 'only certificates from this OIDC issuer')
    .option('--github-repository <owner/name>', 'only certificates for this GitHub repository')
    .option(
      '--oid <OID=VALUE>',
      'only certificates whose Fulcio extension OID has VALUE (repeatable)',
      collect,
      [],
    )
    .option(
      '--log-url <url>',
      'the log tiles prefix (serving checkpoint and tile/…); default: this stack’s log',
    )
    .option('--rekor-v2', 'with no --log-url: follow this stack’s Rekor v2 log instead of v1')
    .option('--ct', 'follow this stack’s CT log (RFC 6962) for certificates naming the identity')
    .option('--ct-url <url>', 'follow this RFC 6962 CT log (the prefix before /ct/v1/) instead')
    .option('--log-key <file>', 'PEM public key of the log (default: the trusted root’s logs)')
    .option('--trusted-root <file>', 'trusted_root.json holding the log key (default: the stored one)')
    .option('--state <file>', 'where the last verified checkpoint is kept', 'sigil-monitor-state.json')
    .option('--once', 'one pass, then exit (for cron or CI)')
    .option('--json', 'JSON lines instead of text')
    .option('--webhook <url>', 'POST each match and alarm there as JSON')
    .option('--interval <seconds>', 'seconds between passes when following', '30')
    .action(async (flags: MonitorFlags) => {
      const { readFile } = await import('node:fs/promises');
      const { runMonitor, trustFromKey } = await import('../../monitor/index.js');
      const ct = flags.ct === true || flags.ctUrl !== undefined;
      if (!flags.identity && !flags.identityRegexp) throw new Error('give --identity or --identity-regexp');
      const oids: Record<string, string> = {};
      for (const o of flags.oid) {
        const eq = o.indexOf('=');
        if (eq < 1) throw new Error(`--oid takes OID=VALUE, not ${o}`);
        oids[o.slice(0, eq)] = o.slice(eq + 1);
      }
      if (flags.githubRepository)
        oids[SOURCE_REPOSITORY_URI] = `https://github.com/${flags.githubRepository}`;
      const trust = flags.logKey
        ? trustFromKey(await readFile(flags.logKey, 'utf8'))
        : await loadTrust(flags).then((t) => () => t);
      // A CT log's tree head names no log: the keys tried are --log-key's, else every CT log of the trusted root.
      const ctLogs = ct
        ? [...(flags.logKey ? trust('').tlogs : trust('').ctlogs).values()].flat()
        : undefined;
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      process.once('SIGTERM', () => controller.abort());
      process.exitCode = await runMonitor({
        logUrl: logUrl(flags),
        trust,
        ct: ctLogs ? { logs: ctLogs } : undefined,
        rule: {
          identity: flags.identity,
          identityRegexp: flags.identityRegexp ? new RegExp(flags.identityRegexp) : undefined,
          issuer: flags.issuer,
          oids,
        },
        statePath: flags.state,
        once: flags.once === true,
        json: flags.json === true,
        webhook: flags.webhook,
        intervalMs: Number(flags.interval) * 1000,
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
        signal: controller.signal,
      });
    });
}
