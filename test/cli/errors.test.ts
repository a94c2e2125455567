// What a user sees when a `sigil` command fails (#19): one line that says what to do, never Node's or OpenSSL's
// own text, and cosign's exit codes (cmd/cosign/errors/exit_codes.go: 10 no signature, 11 no such tag; signatures
// that do not verify end with 1, as cosign v3 ends, test/peers/cli-parity.test.ts). Also `sigil up` refusing an
// unusable --data-dir at once and a busy port before it writes anything, and a signature the log accepted but the
// registry refused reported with its log index.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushImage, ROOT, type Stack, sigil, startStack, tempDir } from '../sign/helpers.js';

/** Apart from cosign's warnings, stderr is one "Error: …" line with none of Node's or OpenSSL's vocabulary. */
function expectOneLine(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('WARNING: '));
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^Error: /);
  expect(lines[0]).not.toMatch(/ENOENT|EISDIR|ECONNREFUSED|EPROTO|DECODER|routines|illegal operation|errno/);
  return lines[0];
}

describe('errors say what to do', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    await writeFile(join(dir, 'a.txt'), 'data\n');
    await writeFile(join(dir, 'garbage.pub'), 'not a key\n');
    await mkdir(join(dir, 'adir'));
  });

  it('a missing file is named', async () => {
    const r = await sigil([
      'verify-blob',
      join(dir, 'a.txt'),
      '--bundle',
      join(dir, 'missing.json'),
      '--trusted-root',
      join(dir, 'missing.json'),
      '--certificate-identity',
      'someone',
      '--certificate-oidc-issuer',
      'https://issuer.example',
    ]);
    expect(r.code).toBe(1);
    expect(expectOneLine(r.stderr)).toBe(`Error: ${join(dir, 'missing.json')} does not exist`);
    const artifact = await sigil([
      'sign-blob',
      '--yes',
      '--tlog-upload=false',
      '--key',
      join(dir, 'nokey'),
      join(dir, 'a.txt'),
    ]);
    expect(expectOneLine(artifact.stderr)).toBe(`Error: ${join(dir, 'nokey')}: no such file or directory`);
  });

  it('a directory given for a file is named', async () => {
    const r = await sigil(['public-key', '--key', join(dir, 'adir')]);
    expect(r.code).toBe(1);
    expect(expectOneLine(r.stderr)).toBe(`Error: ${join(dir, 'adir')}: a directory, not a file`);
  });

  it('a key in a format sigil does not read, private or public', async () => {
    const priv = await sigil([
      'sign-blob',
      '--yes',
      '--tlog-upload=false',
      '--key',
      join(dir, 'garbage.pub'),
      join(dir, 'a.txt'),
    ]);
    expect(priv.code).toBe(1);
    expect(expectOneLine(priv.stderr)).toContain('not a private key in a format sigil reads');
    const pub = await sigil([
      'verify',
      '--key',
      join(dir, 'garbage.pub'),
      '--insecure-ignore-tlog',
      '127.0.0.1:1/x@sha256:0000000000000000000000000000000000000000000000000000000000000000',
    ]);
    expect(pub.code).toBe(1);
    expect(expectOneLine(pub.stderr)).toContain('is not a public key in a format sigil reads');
  });

  it('--key env://VAR names an unset variable', async () => {
    const r = await sigil([
      'sign-blob',
      '--yes',
      '--tlog-upload=false',
      '--key',
      'env://NO_SUCH_KEY',
      join(dir, 'a.txt'),
    ]);
    expect(r.code).toBe(1);
    expect(expectOneLine(r.stderr)).toContain(
      '--key env://NO_SUCH_KEY: the environment variable NO_SUCH_KEY is not set',
    );
  });

  it('verify: a trusted root that is not there is the error, even with the registry down', async () => {
    // The trusted root is read while the registry is asked (src/cli/commands/verify.ts); its error still comes first.
    const r = await sigil([
      'verify',
      '--trusted-root',
      join(dir, 'no-root.json'),
      '--certificate-identity',
      'someone',
      '--certificate-oidc-issuer',
      'https://issuer.example',
      '127.0.0.1:1/x@sha256:0000000000000000000000000000000000000000000000000000000000000000',
    ]);
    expect(r.code).toBe(1);
    expect(expectOneLine(r.stderr)).toBe(`Error: ${join(dir, 'no-root.json')} does not exist`);
  });

  it('a stack that is not running: is `sigil up` running, and where it writes its URL', async () => {
    const r = await sigil(['initialize', '--root', 'http://127.0.0.1:1'], { SIGIL_DATA_DIR: '/srv/sigil' });
    expect(r.code).toBe(1);
    expect(expectOneLine(r.stderr)).toBe(
      'Error: cannot reach http://127.0.0.1:1: nothing is listening there; is `sigil up` running? it writes its URL to /srv/sigil/endpoints.json',
    );
  });

  it('an https URL at a plain http port says to use http://', async () => {
    const server = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await sigil(['initialize', '--root', `https://127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(expectOneLine(r.stderr)).toContain(
        `https://127.0.0.1:${port} speaks plain HTTP, not TLS: use http://127.0.0.1:${port}`,
      );
    } finally {
      server.close();
    }
  });
});

describe('describeError', () => {
  it('an unreachable Docker Hub says that a reference without a host means Docker Hub', async () => {
    const { describeError } = await import('../../src/cli/errors.js');
    const { HttpRequestError } = await import('../../src/net/index.js');
    const { OciError } = await import('../../src/oci/index.js');
    const cause = new HttpRequestError('getaddrinfo ENOTFOUND registry-1.docker.io', 'ENOTFOUND', {
      url: 'https://registry-1.docker.io/v2/',
    });
    const err = new OciError(
      'NETWORK',
      'GET manifest: cannot reach https://registry-1.docker.io: ENOTFOUND',
      undefined,
      {
        cause,
      },
    );
    expect(describeError(err)).toBe(
      'GET manifest: cannot resolve registry-1.docker.io (https://registry-1.docker.io/v2/): check the host name in the URL and the network (an image without a registry host is on Docker Hub, as with docker: write HOST:PORT/REPO for another registry)',
    );
  });
});

describe('sigil up refuses early', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    await writeFile(join(dir, 'afile'), '');
  });

  it('a file given as --data-dir, a path through a file, a place nothing can be created', async () => {
    const file = await sigil(['up', '--port', '0', '--data-dir', join(dir, 'afile')]);
    expect(file.code).toBe(1);
    expect(expectOneLine(file.stderr)).toContain(
      `--data-dir ${join(dir, 'afile')}: it is a file, not a directory`,
    );
    const through = await sigil(['up', '--port', '0', '--data-dir', join(dir, 'afile', 'sub')]);
    expect(through.code).toBe(1);
    expect(expectOneLine(through.stderr)).toContain('a part of the path is not a directory');
    // Node's recursive mkdir never returns under /proc; sigil must fail at once instead.
    const proc = await sigil(['up', '--port', '0', '--data-dir', '/proc/sigil-nope/data']);
    expect(proc.code).toBe(1);
    expect(expectOneLine(proc.stderr)).toContain('--data-dir /proc/sigil-nope/data');
  });

  it('a busy port fails before anything is written to the data dir', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const data = join(dir, 'fresh');
      const r = await sigil(['up', '--port', String(port), '--data-dir', data]);
      expect(r.code).toBe(1);
      expect(expectOneLine(r.stderr)).toContain(`127.0.0.1:${port} is in use`);
      await expect(readdir(data)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      server.close();
    }
  });

  /** Runs `sigil up` until its endpoints file appears, makes one request, stops it, and returns its output. */
  async function upOutput(args: string[]): Promise<string> {
    const data = await tempDir('sigil-up-');
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/sigil.js'), 'up', '--port', '0', '--data-dir', data, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      out += c;
    });
    let url: string | undefined;
    for (let i = 0; i < 300 && !url; i++) {
      url = await readFile(join(data, 'endpoints.json'), 'utf8').then(
        (t) => (JSON.parse(t) as { url: string }).url,
        () => undefined,
      );
      if (!url) await new Promise((r) => setTimeout(r, 100));
    }
    expect(url, out).toBeDefined();
    await fetch(`${url}/healthz`).then((r) => r.text());
    await fetch(`${url}/no-such-path`).then((r) => r.text());
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Give pino a moment to write the request lines before the stop: until they are out (a loaded machine may take
    // seconds), or 1 s for a --quiet server, which writes none.
    const wait = args.includes('--quiet') ? 1_000 : 10_000;
    for (let t = 0; t < wait && !out.includes('/no-such-path'); t += 50)
      await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    await exited;
    return out;
  }

  it('pretty request lines, JSON when asked (and when not a terminal), none with --quiet', async () => {
    const pretty = await upOutput(['--log-format', 'pretty']);
    expect(pretty).toMatch(/^\d\d:\d\d:\d\d GET \/healthz 200 \d+ms$/m);
    expect(pretty).not.toContain('"msg"');
    const json = await upOutput([]);
    const lines = json.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.some((l) => (JSON.parse(l) as { msg?: string }).msg === 'request completed')).toBe(true);
    const quiet = await upOutput(['--log-format', 'pretty', '--quiet']);
    expect(quiet).toContain('sigil is up at');
    expect(quiet).not.toMatch(/GET \/healthz/);
    const bad = await sigil(['up', '--port', '0', '--log-format', 'yaml', '--data-dir', join(dir, 'x')]);
    expect(bad.code).toBe(1);
    expect(expectOneLine(bad.stderr)).toContain('--log-format must be json or pretty');
  });
});

describe('exit codes and orphans against a stack', () => {
  let stack: Stack;
  let home: string;
  let digest: string;
  const env = () => ({ SIGIL_HOME: home, COSIGN_PASSWORD: 'pw' });

  beforeAll(async () => {
    stack = await startStack();
    home = await tempDir();
    expect((await sigil(['initialize', '--root', stack.url], env())).code).toBe(0);
    const gen = await sigil(['generate-key-pair', '--output-key-prefix', join(home, 'k')], env());
    expect(gen.code, gen.stderr).toBe(0);
    digest = await pushImage(stack.host, 'errors/app', 'v1');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('verify: 10 when the image has no signatures, 11 when the tag does not exist', async () => {
    const none = await sigil(
      ['verify', '--key', join(home, 'k.pub'), `${stack.host}/errors/app@${digest}`],
      env(),
    );
    expect(none.code, none.stderr).toBe(10);
    expect(none.stderr).toContain('no signatures found');
    const noTag = await sigil(
      ['verify', '--key', join(home, 'k.pub'), `${stack.host}/errors/app:nope`],
      env(),
    );
    expect(noTag.code, noTag.stderr).toBe(11);
  });

  it('verify: a digest the registry does not have is reported as such, not as an unsigned image', async () => {
    const missing = `sha256:${'e'.repeat(64)}`;
    const r = await sigil(
      ['verify', '--key', join(home, 'k.pub'), `${stack.host}/errors/app@${missing}`],
      env(),
    );
    expect(r.code, r.stderr).toBe(1);
    expect(expectOneLine(r.stderr)).toMatch(new RegExp(`errors/app@${missing}.*not found`));
  });

  it('a signature the log accepted but the registry refused: the entry index, and a non-zero exit', async () => {
    const r = await sigil(
      ['sign', '--yes', '--key', join(home, 'k.key'), `${stack.host}/errors/app@${digest}`],
      // The signatures go to a registry that is not there, after the log has taken the entry.
      { ...env(), COSIGN_REPOSITORY: '127.0.0.1:1/nowhere' },
    );
    expect(r.code).toBe(1);
    const line = r.stderr.trim().split('\n').at(-1) ?? '';
    expect(line).toMatch(
      /^Error: the transparency log accepted the signature \(tlog entry index \d+\) but pushing it to 127\.0\.0\.1:1\/nowhere failed: .*cannot reach/,
    );
  });

  it('verify: 1 when signatures exist but none verifies (as cosign v3 exits)', async () => {
    const signed = await sigil(
      ['sign', '--yes', '--key', join(home, 'k.key'), `${stack.host}/errors/app@${digest}`],
      env(),
    );
    expect(signed.code, signed.stderr).toBe(0);
    const other = await sigil(['generate-key-pair', '--output-key-prefix', join(home, 'other')], env());
    expect(other.code).toBe(0);
    const r = await sigil(
      ['verify', '--key', join(home, 'other.pub'), `${stack.host}/errors/app@${digest}`],
      env(),
    );
    expect(r.code, r.stderr).toBe(1);
  });
});
