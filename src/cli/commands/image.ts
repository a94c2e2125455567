// `sigil image build DIR -t REF`: packs a directory into a reproducible OCI image (no container engine needed),
// optionally writes it as an OCI layout, pushes it, and prints `REF@sha256:…` on stdout; progress on stderr.
// Also exports the registry flags (cosign's names) so other commands can build a RegistryClient the same way.
import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { buildImage, type PushProgress, pushImage } from '../../image/index.js';
import { parseReference, RegistryClient, type RegistryClientOptions } from '../../oci/index.js';

/** Adds the registry connection flags shared by commands that talk to a registry. */
export function addRegistryOptions(cmd: Command): Command {
  return cmd
    .option('--registry-username <user>', 'registry user (default: from docker/podman auth files)')
    .option('--registry-password <password>', 'registry password or token (env SIGIL_REGISTRY_PASSWORD)')
    .option('--allow-http-registry', 'use plain HTTP for registries that are not on loopback')
    .option(
      '--allow-insecure-registry',
      'same as --allow-http-registry (TLS is never weakened; see NODE_EXTRA_CA_CERTS)',
    );
}

/** A RegistryClient from the flags of addRegistryOptions; warnings go to stderr. */
export function registryClientFromOptions(
  opts: Record<string, unknown>,
  extra: RegistryClientOptions = {},
): RegistryClient {
  const username = opts.registryUsername as string | undefined;
  const password = (opts.registryPassword as string | undefined) ?? process.env.SIGIL_REGISTRY_PASSWORD;
  if ((username === undefined) !== (password === undefined)) {
    throw new Error('--registry-username and --registry-password go together');
  }
  return new RegistryClient({
    credentials: username !== undefined && password !== undefined ? { username, password } : undefined,
    insecure: Boolean(opts.allowHttpRegistry || opts.allowInsecureRegistry),
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    ...extra,
  });
}

/** `["a","b"]` (exec form) or whitespace-separated words. */
export function parseCommandLine(value: string, flag: string): string[] {
  const trimmed = value.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new Error(`${flag}: not a JSON array: ${value}`);
    }
    if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) {
      throw new Error(`${flag}: expected a JSON array of strings`);
    }
    return parsed;
  }
  return trimmed.split(/\s+/).filter(Boolean);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function keyValues(values: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new Error(`${flag} "${v}": expected KEY=VALUE`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** Sizes as people read them: small blobs (config, a source tree) would all show as "0.0 MiB". */
function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Progress lines on stderr: at most every 500 ms per blob, plus the last one. */
function progressPrinter(): (p: PushProgress) => void {
  const last = new Map<string, { at: number; sent: number }>();
  return (p) => {
    const prev = last.get(p.digest);
    const now = Date.now();
    const done = p.sent === p.total;
    if (prev && (prev.sent === p.sent || (!done && now - prev.at < 500))) return;
    last.set(p.digest, { at: now, sent: p.sent });
    process.stderr.write(
      `${p.digest.slice(0, 19)}… ${size(p.sent)}/${size(p.total)}${done ? ' done' : ''}\n`,
    );
  };
}

export function registerImageCommands(program: Command): void {
  const image = program.command('image').description('build and push OCI images');
  addRegistryOptions(
    image
      .command('build')
      .description(
        'pack DIR into a reproducible OCI image; push it to --tag and print REF@sha256:… on stdout',
      )
      .argument('<dir>', 'directory whose contents become the image filesystem root')
      .option('-t, --tag <ref>', 'image reference to push to, e.g. localhost:5000/app:1.0')
      .option('--oci-layout <dir>', 'also write the image as an OCI image layout in DIR')
      .option('--entrypoint <cmd>', 'entrypoint: JSON array or words')
      .option('--cmd <cmd>', 'default arguments: JSON array or words')
      .option('--env <KEY=VALUE>', 'environment variable (repeatable)', collect)
      .option('--label <KEY=VALUE>', 'image label (repeatable)', collect)
      .option('--workdir <dir>', 'working directory (absolute)')
      .option('--user <user>', 'user to run as')
      .option('--platform <os/arch[/variant]>', 'platform recorded in the config', 'linux/amd64')
      .option(
        '--source-date-epoch <seconds>',
        'timestamp for files and config (default $SOURCE_DATE_EPOCH or 0)',
      ),
  ).action(async (dir: string, opts: Record<string, unknown>) => {
    const tag = opts.tag as string | undefined;
    const layout = opts.ociLayout as string | undefined;
    if (!tag && !layout)
      throw new Error('nothing to do: give --tag REF to push, --oci-layout DIR to write, or both');
    const ref = tag ? parseReference(tag) : undefined;
    const [os, architecture, variant, ...rest] = String(opts.platform).split('/');
    if (!os || !architecture || rest.length > 0)
      throw new Error(`--platform "${opts.platform}": expected os/arch[/variant]`);
    const epochText = (opts.sourceDateEpoch as string | undefined) ?? process.env.SOURCE_DATE_EPOCH ?? '0';
    if (!/^\d+$/.test(epochText)) throw new Error(`source date epoch "${epochText}": expected whole seconds`);
    const built = await buildImage(dir, {
      os,
      architecture,
      variant,
      entrypoint: opts.entrypoint ? parseCommandLine(String(opts.entrypoint), '--entrypoint') : undefined,
      cmd: opts.cmd ? parseCommandLine(String(opts.cmd), '--cmd') : undefined,
      env: opts.env as string[] | undefined,
      labels: keyValues((opts.label as string[] | undefined) ?? [], '--label'),
      workdir: opts.workdir as string | undefined,
      user: opts.user as string | undefined,
      sourceDateEpoch: Number(epochText),
      ociLayout: layout,
      refName: ref?.tag ?? (layout ? 'latest' : undefined),
    });
    if (!ref) {
      process.stdout.write(`${built.manifestDigest}\n`);
      return;
    }
    try {
      const client = registryClientFromOptions(opts);
      const result = await pushImage(client, built, ref, { onProgress: progressPrinter() });
      process.stdout.write(`${result.reference}\n`);
    } finally {
      // Without --oci-layout the layout was only a staging area in a temp dir.
      if (!layout) await rm(built.layoutDir, { recursive: true, force: true });
    }
  });
}
