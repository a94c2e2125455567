// Shared by the tests that run the real Sigstore clients (../shared/PEERS.md) against sigil: where scripts/peers.sh
// put each binary, how a test whose peer is missing behaves (in CI, CI=true, it fails; elsewhere it skips and says
// why), a `sigil up` child process on a fresh data dir with a registered CI runner, and the files those clients
// read (docker config, PEM trust files for cosign v2, a client trust config for sigstore-python).
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'vitest';
import {
  type Cli,
  parseBuiltImage,
  parseRunnerEnv,
  type RunResult,
  runSigil,
  type StackProcess,
  startStackProcess,
  workflowIdentity,
} from '../../src/demo/index.js';
import { stackDatabase } from '../backend.js';
import { cleanEnv, freePort } from '../e2e/helpers.js';

export const ROOT = join(import.meta.dirname, '..', '..');
const CLI: Cli = { node: process.execPath, script: join(ROOT, 'bin', 'sigil.js') };

export type PeerName =
  | 'cosign3'
  | 'cosign2'
  | 'rekor-cli'
  | 'crane'
  | 'sigstore-go'
  | 'sigstore-python'
  | 'containers-policy'
  | 'oci-conformance'
  | 'timestamp-server';

/** The directory scripts/peers.sh installs into (it prints it with --path). */
export const PEERS_BIN = execFileSync('bash', [join(ROOT, 'scripts', 'peers.sh'), '--path'], {
  encoding: 'utf8',
}).trim();

/** The peer's binary, or undefined when scripts/peers.sh has not installed it. */
export function peerPath(name: PeerName): string | undefined {
  const path = join(PEERS_BIN, name);
  return existsSync(path) ? path : undefined;
}

const IN_CI = process.env.CI === 'true';

/**
 * A describe block that needs `name`. When the peer is missing: in CI one failing test says so (a compatibility
 * claim must not pass by skipping); elsewhere the block is skipped with the install command in its title.
 */
export function describePeer(name: PeerName, title: string, body: (bin: string) => void): void {
  const bin = peerPath(name);
  if (bin) {
    describe(title, () => body(bin));
  } else if (IN_CI) {
    describe(title, () => {
      it(`has ${name} installed`, () => {
        throw new Error(`${name} is not installed in ${PEERS_BIN}: run scripts/peers.sh ${name}`);
      });
    });
  } else {
    describe.skip(`${title} (skipped: ${name} not installed; run scripts/peers.sh ${name})`, () => body(''));
  }
}

export interface PeerRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Both streams, for assertion messages. */
  output: string;
}

/** Runs a peer binary with `env` over a clean environment; never throws for a non-zero exit. */
export function runPeer(
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  o: { cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<PeerRun> {
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      args,
      { env, cwd: o.cwd ?? ROOT, timeout: o.timeoutMs ?? 90_000, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code ?? 1) : 0;
        resolve({
          code: typeof code === 'number' ? code : 1,
          stdout,
          stderr,
          output: `$ ${bin} ${args.join(' ')}\n${stdout}${stderr}`,
        });
      },
    );
    child.stdin?.end(o.input ?? '');
  });
}

const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });

export const REPOSITORY = 'acme/django-keyless';
export const IDENTITY = workflowIdentity(REPOSITORY);

export interface PeerStack {
  stack: StackProcess;
  dataDir: string;
  /** A scratch directory (HOME for the peers, docker config, trust files). */
  work: string;
  url: string;
  /** `127.0.0.1:PORT`. */
  registry: string;
  trustedRoot: string;
  signingConfig: string;
  /** The environment `. DATA_DIR/env` gives, plus the job's token request variables and DOCKER_CONFIG. */
  env: NodeJS.ProcessEnv;
  /** PEM files cosign v2 reads through SIGSTORE_ROOT_FILE, SIGSTORE_REKOR_PUBLIC_KEY, SIGSTORE_CT_LOG_PUBLIC_KEY_FILE. */
  pem: { fulcioChain: string; rekorKey: string; ctKey: string };
  sigil(args: string[], extra?: NodeJS.ProcessEnv): Promise<RunResult>;
  /** cosign's identity flags: `--certificate-identity` (the workflow's, by default) and the OIDC issuer (this stack's). */
  who(identity?: string, issuer?: string): string[];
  /** Builds a one-file image with `content` and pushes it as REPOSITORY:tag; returns `registry/repo@sha256:…`. */
  pushImage(tag: string, content: string): Promise<string>;
  stop(): Promise<void>;
}

const pem = (b64: string, label: string) =>
  `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)?.join('\n')}\n-----END ${label}-----\n`;

/**
 * `sigil up` on a fresh data dir and a free port, with a CI runner for REPOSITORY registered; `caConfig`, when
 * given, is written as the data dir's ca-config.json before the start (e.g. to trust another OIDC issuer); `args`
 * go to `sigil up` (e.g. --rekor-v2).
 */
export async function startPeerStack(o: { caConfig?: unknown; args?: string[] } = {}): Promise<PeerStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-peers-'));
  if (o.caConfig) await writeFile(join(dataDir, 'ca-config.json'), JSON.stringify(o.caConfig));
  const work = await mkdtemp(join(tmpdir(), 'sigil-peers-work-'));
  const port = await freePort();
  const database = await stackDatabase(dataDir);
  const stack = await startStackProcess(
    CLI,
    [
      '--data-dir',
      dataDir,
      '--port',
      String(port),
      '--log-level',
      'warn',
      ...(database ? ['--database', database] : []),
      ...(o.args ?? []),
    ],
    { env: cleanEnv(), cwd: ROOT, echo: quiet, timeoutMs: 60_000, dataDir },
  );
  const endpoints = stack.endpoints;
  const base = cleanEnv({ ...endpoints.env, HOME: work });
  // Once the runner is registered, every sigil step runs as the job would: with its token request variables.
  let job: Record<string, string> = {};
  const sigil = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    runSigil(CLI, args, { env: { ...base, ...job, ...extra }, cwd: ROOT, echo: quiet, timeoutMs: 90_000 });

  const runnerOut = await sigil([
    'oidc',
    'add-runner',
    '--repository',
    REPOSITORY,
    '--workflow',
    '.github/workflows/docker-publish.yml',
    '--ref',
    'refs/heads/main',
    '--sha',
    '0123456789abcdef0123456789abcdef01234567',
  ]);
  if (runnerOut.code !== 0) throw new Error(`add-runner failed:\n${runnerOut.output}`);
  const runner = parseRunnerEnv(runnerOut.stdout);
  job = runner;

  // Docker's config format is what cosign, crane and skopeo read; sigil up writes its credentials in it.
  const dockerConfig = join(work, 'docker');
  await mkdir(dockerConfig, { recursive: true });
  const authFile = endpoints.env.REGISTRY_AUTH_FILE as string;
  await writeFile(join(dockerConfig, 'config.json'), await readFile(authFile));

  const trustedRoot = endpoints.env.SIGIL_TRUSTED_ROOT as string;
  const signingConfig = endpoints.env.SIGIL_SIGNING_CONFIG as string;
  const root = JSON.parse(await readFile(trustedRoot, 'utf8')) as {
    certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
    tlogs: { publicKey: { rawBytes: string } }[];
    ctlogs: { publicKey: { rawBytes: string } }[];
  };
  const files = {
    fulcioChain: join(work, 'fulcio-chain.pem'),
    rekorKey: join(work, 'rekor.pub'),
    ctKey: join(work, 'ctlog.pub'),
  };
  await writeFile(
    files.fulcioChain,
    root.certificateAuthorities[0].certChain.certificates.map((c) => pem(c.rawBytes, 'CERTIFICATE')).join(''),
  );
  await writeFile(files.rekorKey, pem(root.tlogs[0].publicKey.rawBytes, 'PUBLIC KEY'));
  await writeFile(files.ctKey, pem(root.ctlogs[0].publicKey.rawBytes, 'PUBLIC KEY'));

  const env: NodeJS.ProcessEnv = {
    ...base,
    ...runner,
    DOCKER_CONFIG: dockerConfig,
    // cosign keeps its TUF cache here; never the caller's ~/.sigstore.
    TUF_ROOT: join(work, 'tuf'),
  };
  // What the signing tests sign and attest: an artifact, the same bytes changed, an SLSA predicate.
  await writeFile(join(work, 'artifact.txt'), 'release tarball bytes\n');
  await writeFile(join(work, 'tampered.txt'), 'release tarball bytes, changed\n');
  await writeFile(join(work, 'predicate.json'), JSON.stringify({ buildType: 'make', builder: { id: 'ci' } }));
  const registry = endpoints.registry;
  let images = 0;
  return {
    stack,
    dataDir,
    work,
    url: endpoints.url,
    registry,
    trustedRoot,
    signingConfig,
    env,
    pem: files,
    sigil,
    who: (identity = IDENTITY, issuer = endpoints.url) => [
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      issuer,
    ],
    async pushImage(tag: string, content: string) {
      const dir = join(work, `image-${++images}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'content.txt'), content);
      const r = await sigil(['image', 'build', dir, '-t', `${registry}/${REPOSITORY}:${tag}`]);
      if (r.code !== 0) throw new Error(`image build failed:\n${r.output}`);
      const ref = parseBuiltImage(r.stdout);
      return `${registry}/${REPOSITORY}@${ref.split('@')[1]}`;
    },
    async stop() {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** The assertion message for a peer or sigil run: the command line and everything it printed. */
export const said = (r: PeerRun | RunResult) => r.output;
