// Shared by the sign/CLI tests: the sigil services on one loopback server in a fresh data dir (CA with its CT log
// and CI issuer in dev mode, the registry with anonymous push, and the transparency log), a trust
// dir initialised from that server, a small image pushed to the registry, dev tokens, and a runner for the real
// `sigil` binary (bin/sigil.js over dist/, as users run it).
import { execFile } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_DIR, LOG_KEY_FILE } from '../../src/log/index.js';
import { OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST, RegistryClient } from '../../src/oci/index.js';
import {
  createCaStack,
  lateUrl,
  logService,
  type RunningServer,
  registryService,
  type Service,
  startServer,
} from '../../src/server/index.js';
import { stackDatabase } from '../backend.js';

export const ROOT = join(import.meta.dirname, '../..');
export const SHA = '0123456789abcdef0123456789abcdef01234567';

export interface Stack {
  url: string;
  /** `127.0.0.1:PORT`, the registry host part of image references. */
  host: string;
  dataDir: string;
  server: RunningServer;
  stop(): Promise<void>;
}

/** A transparency log alone on its own server (a log the trusted root does not name). */
export async function startLogOnly(): Promise<Stack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-otherlog-'));
  await stackDatabase(dataDir);
  const url = lateUrl();
  const service = await logService({ dataDir, publicUrl: url.get });
  const server = await startServer([service], { logLevel: 'silent', onUrl: url.set });
  return {
    url: server.url,
    host: new URL(server.url).host,
    dataDir,
    server,
    async stop() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * CA (+CT, +issuer in dev mode), registry and (unless withLog is false) the transparency log on one server; the
 * trust files the CA serves then name the log's key.
 */
export async function startStack(withLog = true): Promise<Stack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-sign-'));
  await stackDatabase(dataDir);
  const url = lateUrl();
  const ctx = { dataDir, publicUrl: url.get };
  const services: Service[] = [];
  let log: { publicKey: ReturnType<typeof createPublicKey> } | undefined;
  if (withLog) {
    services.push(await logService(ctx));
    const pem = await readFile(join(dataDir, LOG_DIR, LOG_KEY_FILE), 'utf8');
    log = { publicKey: createPublicKey(pem) };
  }
  services.push(await createCaStack(ctx, { config: { oidcDevMode: true }, log }));
  services.push(await registryService(ctx, { anonymousPush: true }));
  const server = await startServer(services, { logLevel: 'silent', onUrl: url.set });
  return {
    url: server.url,
    host: new URL(server.url).host,
    dataDir,
    server,
    async stop() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A dev-mode token from the stack's own issuer for a GitHub-shaped identity. */
export async function devToken(base: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(`${base}/oidc/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      repository: 'acme/widgets',
      workflow: '.github/workflows/release.yml',
      ref: 'refs/heads/main',
      sha: SHA,
      ...body,
    }),
  });
  if (!res.ok) throw new Error(`dev token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { value: string }).value;
}

export const IDENTITY = 'https://github.com/acme/widgets/.github/workflows/release.yml@refs/heads/main';

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Pushes a one-layer image with `content` as its layer and returns its manifest digest. */
export async function pushImage(
  host: string,
  repository: string,
  tag: string,
  content = `layer of ${repository}:${tag}`,
) {
  const client = new RegistryClient({ useAuthFiles: false });
  const repo = { registry: host, repository };
  const layer = Buffer.from(content);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    }),
  );
  for (const blob of [layer, config]) {
    await client.uploadBlob(repo, { digest: sha256(blob), size: blob.length, open: () => blob });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
      layers: [{ mediaType: OCI_LAYER_TAR, digest: sha256(layer), size: layer.length }],
    }),
  );
  await client.putManifest({ ...repo, tag }, manifest, OCI_MANIFEST);
  return sha256(manifest);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `sigil` binary with `env` added to a clean environment (no ambient tokens leak in). */
export function sigil(
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
): Promise<CliResult> {
  const base: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) base[k] = process.env[k] as string;
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(ROOT, 'bin/sigil.js'), ...args],
      { cwd: ROOT, env: { ...base, ...env } as NodeJS.ProcessEnv, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

export async function tempDir(prefix = 'sigil-cli-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
