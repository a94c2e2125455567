// Runs CNCF distribution (`docker-registry`, Debian package docker-registry) on a free loopback port for tests:
// a real third-party registry our client must interoperate with. Optional htpasswd (Basic) or token (Bearer)
// auth. Each instance gets its own temp dir; stop() kills the process and removes it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DOCKER_REGISTRY_BIN = process.env.SIGIL_DOCKER_REGISTRY ?? '/usr/bin/docker-registry';

export interface DockerRegistry {
  /** `127.0.0.1:<port>`, the registry part of references. */
  host: string;
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export interface DockerRegistryOptions {
  /** htpasswd lines (`user:$2y$...` bcrypt, the only hash distribution accepts). */
  htpasswd?: string;
  /** Bearer token auth: the token server's realm URL, service name, issuer and PEM root certificate. */
  token?: { realm: string; service: string; issuer: string; rootCertPem: string };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startDockerRegistry(options: DockerRegistryOptions = {}): Promise<DockerRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-docker-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
  ];
  if (options.htpasswd) {
    await writeFile(join(dir, 'htpasswd'), options.htpasswd);
    lines.push('auth:', '  htpasswd:', '    realm: sigil-test', `    path: ${join(dir, 'htpasswd')}`);
  } else if (options.token) {
    await writeFile(join(dir, 'token-root.pem'), options.token.rootCertPem);
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${options.token.realm}`,
      `    service: ${options.token.service}`,
      `    issuer: ${options.token.issuer}`,
      `    rootcertbundle: ${join(dir, 'token-root.pem')}`,
    );
  }
  await writeFile(join(dir, 'config.yml'), `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(DOCKER_REGISTRY_BIN, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const url = `http://${host}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(`docker-registry exited at start: ${stderr}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not answer GET /v2/ within 15 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    url,
    dir,
    async stop() {
      if (!exited) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
        if (!exited) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
