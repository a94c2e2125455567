// cosign's persistent flags and small verbs (#19; cosign doc/cosign.md, doc/cosign_login.md,
// doc/cosign_completion.md): -t/--timeout ends a command that waits too long, -d/--verbose prints the HTTP
// requests, `login` stores credentials where docker and cosign read them, `completion` prints a script the shell
// can use.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsFromAuthFiles } from '../../src/oci/auth.js';
import { sigil, tempDir } from '../sign/helpers.js';

const run = promisify(execFile);

describe('-t/--timeout and -d/--verbose', () => {
  let silent: TcpServer;
  let http: Server;
  let silentUrl: string;
  let httpUrl: string;
  beforeAll(async () => {
    // Accepts connections and never answers.
    silent = createTcpServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    http = createServer((_req, res) => {
      res.statusCode = 404;
      res.end('{}');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    silent.close();
    http.close();
  });

  it('-t ends a command whose server does not answer, before or after the verb', async () => {
    for (const args of [
      ['-t', '1s', 'initialize', '--root', silentUrl],
      ['initialize', '--root', silentUrl, '--timeout=1s'],
    ]) {
      const r = await sigil(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Error: timed out after 1s (-t/--timeout)');
    }
    const bad = await sigil(['-t', 'soon', 'version']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('Error: --timeout soon: not a duration (e.g. 30s, 3m0s, 1h)\n');
    const ok = await sigil(['version', '-t', '3m0s']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('-d prints each request and its answer', async () => {
    const r = await sigil(['initialize', '-d', '--root', httpUrl]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`> GET ${httpUrl}/`);
    expect(r.stderr).toMatch(new RegExp(`< 404 GET ${httpUrl.replace(/\./g, '\\.')}/`));
    const quiet = await sigil(['initialize', '--root', httpUrl]);
    expect(quiet.stderr).not.toContain('> GET');
  });
});

describe('login', () => {
  it("writes docker's config.json, keeping what was there; Docker Hub under docker's key", async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ credsStore: '', auths: { 'other.io': { auth: 'eDp5' } } }),
    );
    const r = await sigil(
      ['login', '127.0.0.1:5000', '-u', 'alice', '--password-stdin'],
      { DOCKER_CONFIG: dir },
      's3cret\n',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`logged in via ${join(dir, 'config.json')}\n`);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config.auths['other.io']).toEqual({ auth: 'eDp5' });
    expect(Buffer.from(config.auths['127.0.0.1:5000'].auth, 'base64').toString()).toBe('alice:s3cret');
    // sigil's registry client finds them there, as cosign and docker do.
    expect(
      await credentialsFromAuthFiles('127.0.0.1:5000', undefined, { DOCKER_CONFIG: dir, HOME: dir }),
    ).toEqual({
      username: 'alice',
      password: 's3cret',
    });
    const hub = await sigil(['login', 'docker.io', '-u', 'bob', '-p', 'pw'], { DOCKER_CONFIG: dir });
    expect(hub.code, hub.stderr).toBe(0);
    const after = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(Object.keys(after.auths)).toContain('https://index.docker.io/v1/');
    expect(await credentialsFromAuthFiles('docker.io', undefined, { DOCKER_CONFIG: dir, HOME: dir })).toEqual(
      {
        username: 'bob',
        password: 'pw',
      },
    );
    const noUser = await sigil(['login', 'r.io', '-p', 'x'], { DOCKER_CONFIG: dir });
    expect(noUser.code).toBe(1);
    expect(noUser.stderr).toBe('Error: give the user name with -u/--username\n');
  });
});

describe('completion', () => {
  it('bash completes verbs, subcommands and flags that exist', async () => {
    const script = (await sigil(['completion', 'bash'])).stdout;
    const dir = await tempDir();
    await writeFile(join(dir, 'c.sh'), script);
    const complete = async (...words: string[]) => {
      const { stdout } = await run('bash', [
        '-c',
        `source ${join(dir, 'c.sh')}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _sigil; echo "\${COMPREPLY[*]}"`,
      ]);
      return stdout.trim().split(' ');
    };
    expect(await complete('sigil', 'verify-b')).toEqual(['verify-blob', 'verify-blob-attestation']);
    expect(await complete('sigil', 'log', 'logp')).toEqual(['logproof']);
    expect(await complete('sigil', 'verify', 'IMAGE', '--certificate-oidc-')).toEqual([
      '--certificate-oidc-issuer',
      '--certificate-oidc-issuer-regexp',
    ]);
    const fish = await sigil(['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c sigil -n '__fish_seen_subcommand_from log' -a logproof");
    const bad = await sigil(['completion', 'powershell']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bash, zsh or fish');
  });
});
