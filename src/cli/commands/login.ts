// `sigil login REGISTRY -u USER -p PASS` (cosign login): stores the registry credentials where docker and cosign
// look for them, docker's config.json (DOCKER_CONFIG, else ~/.docker), as `auths[REGISTRY].auth` = base64 of
// user:password, so sigil, cosign, crane and docker all use them. Docker Hub is keyed as docker login keys it.
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { info } from '../context.js';
import { CliError } from '../errors.js';

interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

/** Where `docker login` writes: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || '.', '.docker'), 'config.json');
}

export function registerLoginCommand(program: Command): void {
  program
    .command('login')
    .description(
      "log in to a registry: saves the credentials in docker's config.json for sigil, cosign and docker",
    )
    .argument('<registry>', 'the registry host, e.g. ghcr.io or localhost:5000 (docker.io for Docker Hub)')
    .option('-u, --username <name>', 'registry user name')
    .option(
      '-p, --password <password>',
      'registry password (visible in process lists; prefer --password-stdin)',
    )
    .option('--password-stdin', 'read the password from standard input')
    .action(async (registry: string, flags: LoginFlags) => {
      const { readFile, mkdir } = await import('node:fs/promises');
      const { writeFileAtomic } = await import('../../crypto/index.js');
      if (!flags.username) throw new CliError('give the user name with -u/--username');
      let password = flags.password;
      if (flags.passwordStdin) {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        password = Buffer.concat(chunks)
          .toString('utf8')
          .replace(/\r?\n$/, '');
      }
      if (password === undefined)
        throw new CliError('give the password with --password-stdin (or -p/--password)');
      const host = registry.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
      // docker login keys Docker Hub by its old index URL; every client looks it up under that key.
      const key = ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host)
        ? 'https://index.docker.io/v1/'
        : host;
      const path = dockerConfigPath();
      let config: { auths?: Record<string, unknown> } & Record<string, unknown> = {};
      const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        err.path ??= path;
        throw err;
      });
      if (text !== undefined) {
        try {
          config = JSON.parse(text);
        } catch {
          throw new CliError(`${path} is not JSON: fix or remove it, then log in again`);
        }
      }
      config.auths = {
        ...(config.auths ?? {}),
        [key]: { auth: Buffer.from(`${flags.username}:${password}`, 'utf8').toString('base64') },
      };
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFileAtomic(path, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
      info(`logged in via ${path}`);
    });
}
