// Basic authentication against distribution's htpasswd auth: credentials from options, from docker's
// config.json and from containers auth.json; clear errors when they are missing or wrong.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, parseReference, RegistryClient } from '../../src/oci/index.js';
import { errorOf, noFiles } from './helpers/client-errors.js';
import { type DockerRegistry, startDockerRegistry } from './helpers/docker-registry.js';

// distribution's htpasswd accepts bcrypt only. Fixture made once with
// python3 -c "import crypt; print(crypt.crypt('s3cret-pass', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))"
// (cost 4, the minimum, to keep the test fast); it is input data, not an expected result.
const USER = 'sigil';
const PASSWORD = 's3cret-pass';
const HTPASSWD = `${USER}:$2b$04$3E44I3zgbY3d.EGx7c3.2usBLp5tYzM5RD5Lvai1/qKubo1w03nqK\n`;

let reg: DockerRegistry;
let dir: string;

beforeAll(async () => {
  reg = await startDockerRegistry({ htpasswd: HTPASSWD });
  dir = await mkdtemp(join(tmpdir(), 'sigil-basic-'));
});
afterAll(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function roundTrip(client: RegistryClient, repo: string): Promise<void> {
  const r = parseReference(`${reg.host}/${repo}`);
  const data = Buffer.from(`blob for ${repo}`);
  expect(await client.uploadBlob(r, { digest: digestOf(data), size: data.length, open: () => data })).toBe(
    'uploaded',
  );
  expect((await client.getBlobBytes(r, digestOf(data))).equals(data)).toBe(true);
}

describe('Basic auth (htpasswd)', () => {
  it('works with credentials given as options', async () => {
    const client = new RegistryClient({ credentials: { username: USER, password: PASSWORD }, env: noFiles });
    await client.ping(reg.host);
    await roundTrip(client, 'basic/options');
  });

  it('says credentials are needed when there are none', async () => {
    const client = new RegistryClient({ env: noFiles });
    const err = await errorOf(client.blobExists(parseReference(`${reg.host}/basic/x`), digestOf('x')));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.status).toBe(401);
    expect(err.message).toMatch(/requires authentication and no credentials were found/);
  });

  it('says the credentials were rejected when the password is wrong, naming the user', async () => {
    const client = new RegistryClient({ credentials: { username: USER, password: 'wrong' }, env: noFiles });
    const err = await errorOf(client.ping(reg.host));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toMatch(/rejected the credentials of user "sigil"/);
    const unknownUser = new RegistryClient({
      credentials: { username: 'mallory', password: PASSWORD },
      env: noFiles,
    });
    expect((await errorOf(unknownUser.ping(reg.host))).message).toMatch(/user "mallory"/);
  });

  it('reads credentials from $DOCKER_CONFIG/config.json', async () => {
    const dockerDir = join(dir, 'docker');
    await import('node:fs/promises').then((fs) => fs.mkdir(dockerDir, { recursive: true }));
    await writeFile(
      join(dockerDir, 'config.json'),
      JSON.stringify({
        auths: { [reg.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
      }),
    );
    await roundTrip(
      new RegistryClient({ env: { DOCKER_CONFIG: dockerDir, HOME: '/nonexistent' } }),
      'basic/docker',
    );
  });

  it('reads credentials from REGISTRY_AUTH_FILE (containers auth.json), before docker config', async () => {
    const authFile = join(dir, 'auth.json');
    await writeFile(
      authFile,
      JSON.stringify({
        auths: { [`${reg.host}/basic`]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
      }),
    );
    const wrongDocker = join(dir, 'wrong-docker');
    await import('node:fs/promises').then((fs) => fs.mkdir(wrongDocker, { recursive: true }));
    await writeFile(
      join(wrongDocker, 'config.json'),
      JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${USER}:nope`).toString('base64') } } }),
    );
    const env = { REGISTRY_AUTH_FILE: authFile, DOCKER_CONFIG: wrongDocker, HOME: '/nonexistent' };
    await roundTrip(new RegistryClient({ env }), 'basic/containers');
  });
});
