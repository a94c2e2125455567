// cosign habits of the CLI (#19): `sigil version`, `sigil env` (secrets masked, as cosign env does), COSIGN_YES in
// place of --yes (cosign reads every flag from COSIGN_<FLAG>; booleans as Go's strconv.ParseBool), and a reader
// that closes the pipe early (`sigil env | head`) ending the command quietly.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, sigil, tempDir } from '../sign/helpers.js';

const run = promisify(execFile);

describe('version, env, COSIGN_YES', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    const gen = await sigil(['generate-key-pair', '--output-key-prefix', join(dir, 'k')], {
      COSIGN_PASSWORD: 'pw',
    });
    expect(gen.code, gen.stderr).toBe(0);
    await writeFile(join(dir, 'artifact'), 'data\n');
  });

  it('version prints the package version, Node and the platform; --json too', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const text = await sigil(['version']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`sigil ${pkg.version}\nNode.js ${process.version}\n`);
    const json = JSON.parse((await sigil(['version', '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ version: pkg.version, node: process.version });
    expect((await sigil(['--version'])).stdout.trim()).toBe(pkg.version);
  });

  it('env lists what the CLI reads, with secrets masked', async () => {
    const r = await sigil(['env'], {
      SIGIL_REKOR_URL: 'http://rekor.example',
      COSIGN_PASSWORD: 'hunter2',
      SIGSTORE_ID_TOKEN: 'eyJ.secret.token',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('SIGIL_REKOR_URL=http://rekor.example\n');
    expect(r.stdout).toContain('COSIGN_PASSWORD=******\n');
    expect(r.stdout).toContain('SIGSTORE_ID_TOKEN=******\n');
    expect(r.stdout).not.toContain('hunter2');
    expect(r.stdout).toContain('ACTIONS_ID_TOKEN_REQUEST_URL=\n');
  });

  it('a closed pipe ends the command quietly', async () => {
    const { stdout, stderr } = await run('bash', [
      '-c',
      `node ${join(ROOT, 'bin/sigil.js')} env | head -n 1`,
    ]);
    expect(stdout).toBe('SIGIL_TRUST_DIR=\n');
    expect(stderr).toBe('');
  });

  // The prompt shows only on a terminal: `script` gives the command one.
  const onTerminal = (env: string, answer: string) =>
    run(
      'bash',
      [
        '-c',
        `echo ${answer} | timeout 30 script -qec "${env} COSIGN_PASSWORD=pw node ${join(ROOT, 'bin/sigil.js')} sign-blob --key k.key --rekor-url http://127.0.0.1:1 artifact" /dev/null`,
      ],
      { cwd: dir },
    ).then(
      (r) => r.stdout,
      (err: { stdout: string }) => err.stdout,
    );

  it('asks before logging on a terminal; COSIGN_YES answers for the user, as --yes does', async () => {
    const asked = await onTerminal('', 'n');
    expect(asked).toContain('Are you sure you would like to continue? [y/N]');
    expect(asked).toContain('signing abandoned');
    for (const yes of ['true', '1', 'T']) {
      const skipped = await onTerminal(`COSIGN_YES=${yes}`, 'n');
      expect(skipped, yes).not.toContain('[y/N]');
      // It went on to the log, which is not there.
      expect(skipped, yes).toContain('cannot reach http://127.0.0.1:1');
    }
    const notYes = await onTerminal('COSIGN_YES=no', 'n');
    expect(notYes).toContain('signing abandoned');
  });
});
