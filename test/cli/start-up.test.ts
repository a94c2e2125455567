// What a client command loads at start-up (#19: `sigil verify` within 100 ms, process start included). The
// client bundle (scripts/bundle-client.mjs) requires Node's built-ins rather than importing them: an ES module
// import builds the built-in's facade, which runs every lazy getter — node:crypto's loads WebCrypto, and on
// Node 24 node:http's loads undici — start-up a verify pays for and never uses. Checked on the Node running the
// suite (CI runs it on Node 20 and 24), with the built bundle, as `sigil` runs it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../sign/helpers.js';

const run = promisify(execFile);

/** The built-in modules Node loaded while `sigil <args>` ran. */
async function builtinsLoaded(args: string[]): Promise<string[]> {
  const script = `
    process.argv = [process.argv[0], 'sigil', ...${JSON.stringify(args)}];
    process.on('exit', () => console.log(JSON.stringify(process.moduleLoadList)));
    await import(${JSON.stringify(join(ROOT, 'bin/sigil.js'))});`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, SIGIL_HOME: '/nonexistent' },
  }).catch((err: { stdout: string }) => err);
  const list = JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
  return list.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
}

describe('client start-up', () => {
  it('a verify loads neither WebCrypto nor undici', async () => {
    // Its registry is not there: the command gets as far as the trust root and the registry's first request.
    const loaded = await builtinsLoaded([
      'verify',
      '--certificate-identity',
      'someone',
      '--certificate-oidc-issuer',
      'https://issuer.example',
      '127.0.0.1:1/x@sha256:0000000000000000000000000000000000000000000000000000000000000000',
    ]);
    // It did load the verifier's crypto and the HTTP client…
    expect(loaded).toEqual(expect.arrayContaining(['crypto', 'http']));
    // …and nothing it does not use.
    expect(loaded).not.toContain('internal/crypto/webcrypto');
    expect(loaded).not.toContain('internal/deps/undici/undici');
  });
});

describe('compiled code kept between runs (Node 20, which has no compile cache of its own)', () => {
  const node20 = !('enableCompileCache' in (process.getBuiltinModule('node:module') as object));

  it.skipIf(!node20)('the first run writes it (0600 in a 0700 directory), the next runs use it', async () => {
    const { mkdtemp, readdir, readFile, stat, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const cacheHome = await mkdtemp(join(tmpdir(), 'sigil-cache-'));
    const env = { PATH: process.env.PATH, XDG_CACHE_HOME: cacheHome };
    const version = () => run(process.execPath, [join(ROOT, 'bin/sigil.js'), 'version'], { env });
    expect((await version()).stdout).toMatch(/^sigil /);
    const dir = join(cacheHome, 'sigil');
    const [name] = await readdir(dir);
    expect(name).toMatch(/^client-v20\.[\d.]+-x64-\d+-\d+\.v8$/);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const first = await stat(join(dir, name));
    expect(first.mode & 0o777).toBe(0o600);
    expect(first.size).toBeGreaterThan(10_000);
    // Accepted by V8: not written again.
    await version();
    expect((await stat(join(dir, name))).mtimeMs).toBe(first.mtimeMs);
    // One V8 refuses (here, another file's bytes) is replaced by a good one, and the command still runs.
    const garbage = Buffer.alloc(first.size, 7);
    await writeFile(join(dir, name), garbage);
    expect((await version()).stdout).toMatch(/^sigil /);
    expect((await readFile(join(dir, name))).equals(garbage)).toBe(false);
  });
});
