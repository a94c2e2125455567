// Challenge parsing and credential lookup in the auth files docker/podman/skopeo users already have.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  credentialsFromAuthFiles,
  credentialsFromHelper,
  parseWwwAuthenticate,
} from '../../src/oci/index.js';

describe('parseWwwAuthenticate', () => {
  it('reads the Bearer challenge of token.md', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:samalba/my-app:pull,push',
        },
      },
    ]);
  });

  it('reads several challenges, escapes, unquoted values and token68', () => {
    expect(
      parseWwwAuthenticate(
        'Basic realm="a \\"quoted\\" realm", Bearer realm=https://x/t , error=invalid_token',
      ),
    ).toEqual([
      { scheme: 'basic', params: { realm: 'a "quoted" realm' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', error: 'invalid_token' } },
    ]);
    expect(parseWwwAuthenticate('Negotiate abc123==')).toEqual([
      { scheme: 'negotiate', params: { '': 'abc123==' } },
    ]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });
});

describe('credentialsFromAuthFiles', () => {
  let dir: string;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-auth-'));
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({
        auths: {
          'https://reg.example.com/v1/': { auth: b64('docker-user:pa:ss') },
          'other.example.com:5000': { username: 'u2', password: 'p2' },
          'empty.example.com': {},
        },
      }),
    );
    await writeFile(
      join(dir, 'auth.json'),
      JSON.stringify({
        auths: {
          'reg.example.com/team': { auth: b64('team-user:t') },
          'reg.example.com/team/app': { auth: b64('app-user:a') },
        },
      }),
    );
    await writeFile(join(dir, 'broken.json'), '{not json');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds docker config.json entries by host, whatever form the key has; splits at the first colon', async () => {
    const env = { DOCKER_CONFIG: dir, HOME: '/nonexistent' };
    expect(await credentialsFromAuthFiles('reg.example.com', 'x/y', env)).toEqual({
      username: 'docker-user',
      password: 'pa:ss',
    });
    expect(await credentialsFromAuthFiles('other.example.com:5000', undefined, env)).toEqual({
      username: 'u2',
      password: 'p2',
    });
    expect(await credentialsFromAuthFiles('other.example.com', undefined, env)).toBeUndefined();
    expect(await credentialsFromAuthFiles('empty.example.com', undefined, env)).toBeUndefined();
  });

  it('prefers REGISTRY_AUTH_FILE and its most specific repository key, then falls back to docker config', async () => {
    const env = { REGISTRY_AUTH_FILE: join(dir, 'auth.json'), DOCKER_CONFIG: dir, HOME: '/nonexistent' };
    expect((await credentialsFromAuthFiles('reg.example.com', 'team/app', env))?.username).toBe('app-user');
    expect((await credentialsFromAuthFiles('reg.example.com', 'team/other', env))?.username).toBe(
      'team-user',
    );
    // "team" must not match "teammate": prefixes count only at a path boundary.
    expect((await credentialsFromAuthFiles('reg.example.com', 'teammate/x', env))?.username).toBe(
      'docker-user',
    );
  });

  it('reports an auth file that is not JSON instead of silently going anonymous', async () => {
    const env = { REGISTRY_AUTH_FILE: join(dir, 'broken.json'), HOME: '/nonexistent' };
    await expect(credentialsFromAuthFiles('reg.example.com', undefined, env)).rejects.toThrow(/cannot parse/);
  });
});

describe('docker credential helpers', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-credhelper-'));
    await mkdir(join(dir, 'bin'));
    await mkdir(join(dir, 'store'));
    // Test double for a third-party credential helper (docker-credential-desktop, -pass, -ecr-login, ...), which
    // cannot run here; it speaks the same protocol: `get`, the server on stdin, JSON or "not found" on stdout.
    const helper = join(dir, 'bin', 'docker-credential-sigiltest');
    await writeFile(
      helper,
      [
        '#!/bin/sh',
        '[ "$1" = get ] || exit 3',
        'read -r server',
        'case "$server" in',
        '  helped.example.com) printf \'{"ServerURL":"%s","Username":"h-user","Secret":"h-secret"}\' "$server" ;;',
        '  store.example.com) printf \'{"ServerURL":"%s","Username":"s-user","Secret":"s-secret"}\' "$server" ;;',
        '  broken.example.com) echo "keychain locked" >&2; exit 2 ;;',
        '  *) echo "credentials not found in native keychain"; exit 1 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    await chmod(helper, 0o755);
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({
        credHelpers: { 'helped.example.com': 'sigiltest', 'missing.example.com': 'nosuchhelper' },
        auths: { 'helped.example.com': { auth: Buffer.from('file-user:f').toString('base64') } },
      }),
    );
    await writeFile(
      join(dir, 'store', 'config.json'),
      JSON.stringify({
        credsStore: 'sigiltest',
        auths: { 'plain.example.com': { username: 'p', password: 'q' } },
      }),
    );
    env = { DOCKER_CONFIG: dir, HOME: '/nonexistent', PATH: `${join(dir, 'bin')}:${process.env.PATH}` };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("asks the registry's own helper first, then the default store, then auths", async () => {
    expect(await credentialsFromAuthFiles('helped.example.com', 'a/b', env)).toEqual({
      username: 'h-user',
      password: 'h-secret',
    });
    const store = { ...env, DOCKER_CONFIG: join(dir, 'store') };
    expect(await credentialsFromAuthFiles('store.example.com', undefined, store)).toEqual({
      username: 's-user',
      password: 's-secret',
    });
    // The store has nothing for this registry: the auths entry answers.
    expect(await credentialsFromAuthFiles('plain.example.com', undefined, store)).toEqual({
      username: 'p',
      password: 'q',
    });
    expect(await credentialsFromAuthFiles('nowhere.example.com', undefined, store)).toBeUndefined();
  });

  it('reports a helper that is missing or fails, naming it', async () => {
    await expect(credentialsFromAuthFiles('missing.example.com', undefined, env)).rejects.toThrow(
      /docker-credential-nosuchhelper .*not found on PATH/,
    );
    const store = { ...env, DOCKER_CONFIG: join(dir, 'store') };
    await expect(credentialsFromAuthFiles('broken.example.com', undefined, store)).rejects.toThrow(
      /docker-credential-sigiltest failed for broken.example.com/,
    );
    await expect(credentialsFromHelper('../evil', 'x', env)).rejects.toThrow(
      /invalid credential helper name/,
    );
  });
});
