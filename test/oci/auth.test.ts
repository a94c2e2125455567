// Challenge parsing and credential lookup in the auth files docker/podman/skopeo users already have.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsFromAuthFiles, parseWwwAuthenticate } from '../../src/oci/index.js';

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
