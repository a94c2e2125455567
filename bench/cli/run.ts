// Wall time of `sigil sign` (keyless) and `sigil verify` of one image against the local stack, process start
// included, as a user or CI job sees it. The stack is `sigil up` in its own process (dev-mode issuer for tokens);
// each timed run is a fresh `node bin/sigil.js …` process signing (then verifying) a distinct image by digest.
// `node -e 0` is timed the same way as the floor no CLI can beat on this machine. The real cosign v3 and v2
// (scripts/peers.sh) sign and verify their own distinct images against the same stack in the same run, interleaved
// with sigil's, when they are installed: cosign v3 from --trusted-root/--signing-config, cosign v2 with its URL flags
// and SIGSTORE_* trust files. sigstore-js's CLI (@sigstore/cli, a dev dependency; its 0.8 line, the last that runs
// on Node 20) has no image verbs: `sigstore attest` signs an in-toto statement into a DSSE bundle and `sigstore
// verify` checks one, its trust from sigil's TUF mirror (cached after the warm-up, --tuf-force-cache, as sigil
// reads its stored trusted root). They are timed beside their sigil counterparts on the same kind of input,
// `sigil attest-blob --statement` and `sigil verify-blob-attestation`, each CLI verifying the bundles it made.
// `sigil sign-blob --bundle` and `verify-blob --bundle` are timed too: #19 sets verify-blob's target beside verify's.
//
// Usage: npm run build && npx tsx bench/cli/run.ts [runs=20]
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST, RegistryClient } from '../../src/oci/index.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const SIGIL = join(ROOT, 'bin/sigil.js');
// @sigstore/cli's entry point, a node script (run with this node, as sigil's is).
const SIGSTORE_JS = join(ROOT, 'node_modules/@sigstore/cli/bin/run');
const PREDICATE_TYPE = 'https://sigil.dev/bench/v1';
const RUNS = Number(process.argv[2] ?? 20);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForEndpoints(
  dataDir: string,
): Promise<{ url: string; registry: string; registryAuthFile: string; tufMirror: string; tufRoot: string }> {
  for (let i = 0; i < 200; i++) {
    try {
      const e = JSON.parse(await readFile(join(dataDir, 'endpoints.json'), 'utf8'));
      const res = await fetch(`${e.url}/healthz`);
      if (res.ok) return e;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error('sigil up did not come up in 20 s');
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return { n: s.length, p50: q(50), p99: q(99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** CPU (user + system) of each timed client process, from GNU time: steadier than wall time on a busy machine. */
const cpu: Record<string, number[]> = {};

/** Times `node ARGS`, or any program when `bin` is given. */
async function timed(
  args: string[],
  env: NodeJS.ProcessEnv,
  name = args[1] ?? args[0],
  bin = process.execPath,
): Promise<number> {
  const t = process.hrtime.bigint();
  const { stderr } = await run('/usr/bin/time', ['-f', 'CPU %U %S', bin, ...args], { env });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  if (m) {
    cpu[name] ??= [];
    cpu[name].push((Number(m[1]) + Number(m[2])) * 1000);
  }
  return wall;
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-bench-cli-'));
  const home = await mkdtemp(join(tmpdir(), 'sigil-bench-home-'));
  // The CA's own issuer in dev mode mints tokens for any identity (never in production).
  await writeFile(
    join(dataDir, 'ca-config.json'),
    JSON.stringify({
      issuers: [
        {
          issuerUrl: 'https://token.actions.githubusercontent.com',
          type: 'github-workflow',
          clientId: 'sigstore',
          allow: ['bench/*'],
        },
      ],
      allowOwnIssuer: true,
      oidcDevMode: true,
    }),
  );
  const up = spawn(
    process.execPath,
    [SIGIL, 'up', '--data-dir', dataDir, '--port', '0', '--log-level', 'warn'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  try {
    const e = await waitForEndpoints(dataDir);
    const env = { PATH: process.env.PATH, SIGIL_HOME: home, REGISTRY_AUTH_FILE: e.registryAuthFile };
    await run(process.execPath, [SIGIL, 'initialize', '--root', e.url], { env });
    const login = JSON.parse(await readFile(join(dataDir, 'registry-login.json'), 'utf8'));
    const client = new RegistryClient({
      credentials: { username: login.user, password: login.password },
      useAuthFiles: false,
    });
    const { createHash } = await import('node:crypto');
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const images: string[] = [];
    const peersBin = execFileSync('bash', [join(ROOT, 'scripts/peers.sh'), '--path'], {
      encoding: 'utf8',
    }).trim();
    const peers = (['cosign3', 'cosign2'] as const).filter((p) => existsSync(join(peersBin, p)));
    // Each client signs images of its own: sigil's, then one set per peer.
    const perClient = RUNS + 1;
    for (let i = 0; i < perClient * (1 + peers.length); i++) {
      const repo = { registry: e.registry, repository: 'bench/app' };
      const layer = Buffer.from(`layer ${i} ${Date.now()}`);
      const config = Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: [sha(layer)] },
        }),
      );
      for (const b of [layer, config])
        await client.uploadBlob(repo, { digest: sha(b), size: b.length, open: () => b });
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, digest: sha(config), size: config.length },
          layers: [{ mediaType: OCI_LAYER_TAR, digest: sha(layer), size: layer.length }],
        }),
      );
      await client.putManifest({ ...repo, tag: `v${i}` }, manifest, OCI_MANIFEST);
      images.push(`${e.registry}/bench/app@${sha(manifest)}`);
    }
    const tokenRes = await fetch(`${e.url}/oidc/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        repository: 'bench/app',
        workflow: '.github/workflows/release.yml',
        ref: 'refs/heads/main',
        sha: 'a'.repeat(40),
      }),
    });
    const token = ((await tokenRes.json()) as { value: string }).value;
    const identity = 'https://github.com/bench/app/.github/workflows/release.yml@refs/heads/main';
    const signArgs = (img: string) => [SIGIL, 'sign', '--yes', '--identity-token', token, img];
    const verifyArgs = (img: string) => [
      SIGIL,
      'verify',
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      e.url,
      img,
    ];

    // The peers read the registry credentials from a docker config dir and the trust files sigil up wrote.
    const dockerConfig = join(home, 'docker');
    await mkdir(dockerConfig, { recursive: true });
    await writeFile(join(dockerConfig, 'config.json'), await readFile(e.registryAuthFile));
    const trustedRoot = join(dataDir, 'trusted_root.json');
    const signingConfig = join(dataDir, 'signing_config.json');
    const root = JSON.parse(await readFile(trustedRoot, 'utf8'));
    const pem = (b64: string, label: string) =>
      `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)?.join('\n')}\n-----END ${label}-----\n`;
    const v2files = {
      SIGSTORE_ROOT_FILE: join(home, 'fulcio.pem'),
      SIGSTORE_REKOR_PUBLIC_KEY: join(home, 'rekor.pub'),
      SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: join(home, 'ct.pub'),
    };
    await writeFile(
      v2files.SIGSTORE_ROOT_FILE,
      root.certificateAuthorities[0].certChain.certificates
        .map((c: { rawBytes: string }) => pem(c.rawBytes, 'CERTIFICATE'))
        .join(''),
    );
    await writeFile(v2files.SIGSTORE_REKOR_PUBLIC_KEY, pem(root.tlogs[0].publicKey.rawBytes, 'PUBLIC KEY'));
    await writeFile(
      v2files.SIGSTORE_CT_LOG_PUBLIC_KEY_FILE,
      pem(root.ctlogs[0].publicKey.rawBytes, 'PUBLIC KEY'),
    );
    const peerEnv = {
      PATH: process.env.PATH,
      HOME: home,
      DOCKER_CONFIG: dockerConfig,
      TUF_ROOT: join(home, 'tuf'),
    };
    const who = ['--certificate-identity', identity, '--certificate-oidc-issuer', e.url];
    // cosign takes --identity-token as a token or a file holding one; a token this long is given as a file.
    const tokenFile = join(home, 'token');
    await writeFile(tokenFile, token);
    const peerArgs = {
      cosign3: {
        sign: (img: string) => [
          'sign',
          '--yes',
          '--identity-token',
          tokenFile,
          '--trusted-root',
          trustedRoot,
          '--signing-config',
          signingConfig,
          img,
        ],
        verify: (img: string) => ['verify', '--trusted-root', trustedRoot, ...who, img],
        env: peerEnv,
      },
      cosign2: {
        sign: (img: string) => [
          'sign',
          '--yes',
          '--identity-token',
          tokenFile,
          '--fulcio-url',
          e.url,
          '--rekor-url',
          e.url,
          img,
        ],
        verify: (img: string) => ['verify', '--rekor-url', e.url, ...who, img],
        env: { ...peerEnv, ...v2files },
      },
    };
    const peerImage = (p: number, i: number) => images[perClient * (1 + p) + i];

    // The blob attestations: one file and one in-toto statement about it per run and CLI.
    const blobs = await blobStatements(home, perClient * 3);
    const attestEnv = { ...env, SIGSTORE_ID_TOKEN: token };
    const blobClients = {
      sigil: {
        verbs: ['attest-blob', 'verify-blob-attestation'],
        attest: (b: BlobInput) => [
          SIGIL,
          'attest-blob',
          '--yes',
          '--statement',
          b.statement,
          '--bundle',
          b.bundle,
          b.file,
        ],
        verify: (b: BlobInput) => [
          SIGIL,
          'verify-blob-attestation',
          '--bundle',
          b.bundle,
          '--type',
          PREDICATE_TYPE,
          ...who,
          b.file,
        ],
        env: attestEnv,
        inputs: blobs.slice(0, perClient),
      },
      // cosign's sign-blob / verify-blob --bundle habit (#19 names verify-blob --bundle beside verify).
      'sigil blob': {
        verbs: ['sign-blob', 'verify-blob'],
        attest: (b: BlobInput) => [SIGIL, 'sign-blob', '--yes', '--bundle', b.bundle, b.file],
        verify: (b: BlobInput) => [SIGIL, 'verify-blob', '--bundle', b.bundle, ...who, b.file],
        env: attestEnv,
        inputs: blobs.slice(perClient * 2),
      },
      'sigstore-js': {
        verbs: ['attest', 'verify'],
        attest: (b: BlobInput) => [
          SIGSTORE_JS,
          'attest',
          b.statement,
          '--output-file',
          b.bundle,
          '--fulcio-url',
          e.url,
          '--rekor-url',
          e.url,
        ],
        verify: (b: BlobInput) => [
          SIGSTORE_JS,
          'verify',
          b.bundle,
          '--certificate-identity-uri',
          identity,
          '--certificate-issuer',
          e.url,
          '--tuf-mirror-url',
          e.tufMirror,
          '--tuf-root-path',
          e.tufRoot,
          '--tuf-cache-path',
          join(home, 'sigstore-js-tuf'),
          '--tuf-force-cache',
        ],
        // CI=true makes `sigstore attest` take SIGSTORE_ID_TOKEN instead of opening a browser for OAuth.
        env: { ...attestEnv, HOME: home, CI: 'true' },
        inputs: blobs.slice(perClient),
      },
    };
    const blobNames = (['sigil', 'sigil blob', 'sigstore-js'] as const).filter(
      (n) => n !== 'sigstore-js' || existsSync(SIGSTORE_JS),
    );

    // Warm-up: page cache, the log's first batch, JIT of the stack.
    await timed(signArgs(images[RUNS]), env);
    await timed(verifyArgs(images[RUNS]), env);
    for (const [p, name] of peers.entries()) {
      const bin = join(peersBin, name);
      await timed(peerArgs[name].sign(peerImage(p, RUNS)), peerArgs[name].env, `${name} sign`, bin);
      await timed(peerArgs[name].verify(peerImage(p, RUNS)), peerArgs[name].env, `${name} verify`, bin);
    }
    for (const name of blobNames) {
      const c = blobClients[name];
      await timed(c.attest(c.inputs[RUNS]), c.env, `${name} ${c.verbs[0]}`);
      await timed(c.verify(c.inputs[RUNS]), c.env, `${name} ${c.verbs[1]}`);
    }
    const peerWall: Record<string, number[]> = {};

    const floor: number[] = [];
    const signs: number[] = [];
    const verifies: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      floor.push(await timed(['-e', '0'], env, 'floor'));
      signs.push(await timed(signArgs(images[i]), env, 'sign'));
      verifies.push(await timed(verifyArgs(images[i]), env, 'verify'));
      for (const [p, name] of peers.entries()) {
        const bin = join(peersBin, name);
        for (const step of ['sign', 'verify'] as const) {
          const key = `${name} ${step}`;
          peerWall[key] ??= [];
          peerWall[key].push(
            await timed(peerArgs[name][step](peerImage(p, i)), peerArgs[name].env, key, bin),
          );
        }
      }
      for (const name of blobNames) {
        const c = blobClients[name];
        for (const [step, args] of [
          [c.verbs[0], c.attest],
          [c.verbs[1], c.verify],
        ] as const) {
          const key = `${name} ${step}`;
          peerWall[key] ??= [];
          peerWall[key].push(await timed(args(c.inputs[i]), c.env, key));
        }
      }
    }
    const row = (name: string, ms: number[], key: string, target: string) => {
      const s = stats(ms);
      const c = stats(cpu[key] ?? [0]);
      return `| ${name} | ${s.n} | ${s.p50.toFixed(0)} ms | ${s.p99.toFixed(0)} ms | ${s.mean.toFixed(0)} ms | ${c.p50.toFixed(0)} ms | ${target} |`;
    };
    console.log('| command | n | wall p50 | wall p99 | wall mean | client CPU p50 | target (wall) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    console.log(row('`sigil sign` (keyless, both layouts)', signs, 'sign', '≤ 300 ms'));
    console.log(row('`sigil verify` (offline, both layouts)', verifies, 'verify', '≤ 100 ms'));
    for (const [key, ms] of Object.entries(peerWall))
      console.log(row(`\`${key}\``, ms, key, key === 'sigil blob verify-blob' ? '≤ 100 ms' : '—'));
    console.log(row('`node -e 0` (process floor)', floor, 'floor', '—'));
    const { loadavg, cpus } = await import('node:os');
    console.log(
      `\n${cpus().length} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, node ${process.version}`,
    );
  } finally {
    up.kill('SIGTERM');
    await new Promise((r) => up.once('exit', r));
    await rm(dataDir, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}

interface BlobInput {
  file: string;
  statement: string;
  bundle: string;
}

/** `count` distinct files, each with an in-toto statement (v1) naming it, and where its bundle will go. */
async function blobStatements(dir: string, count: number): Promise<BlobInput[]> {
  const { createHash } = await import('node:crypto');
  const out: BlobInput[] = [];
  for (let i = 0; i < count; i++) {
    const file = join(dir, `blob-${i}.txt`);
    const data = Buffer.from(`artifact ${i} ${Date.now()}\n`);
    await writeFile(file, data);
    const statement = join(dir, `blob-${i}.statement.json`);
    await writeFile(
      statement,
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [
          { name: `blob-${i}.txt`, digest: { sha256: createHash('sha256').update(data).digest('hex') } },
        ],
        predicateType: PREDICATE_TYPE,
        predicate: { run: i },
      }),
    );
    out.push({ file, statement, bundle: join(dir, `blob-${i}.sigstore.json`) });
  }
  return out;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
