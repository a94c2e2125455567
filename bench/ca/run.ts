// Benchmark of certificate issuance (token verification + proof of possession + precertificate + SCT with a
// durable CT entry + final certificate). Starts `sigil serve ca` in one process and bench/ca/load.ts in another,
// on loopback, and prints the load generator's figures.
//   npm run build && node --import tsx bench/ca/run.ts [seconds=10] [concurrency=32]
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [seconds = '10', concurrency = '32'] = process.argv.slice(2);
const root = join(import.meta.dirname, '../..');

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-bench-ca-'));
  // Dev mode lets the load generator mint tokens for many identities.
  await writeFile(join(dataDir, 'ca-config.json'), JSON.stringify({ issuers: [], oidcDevMode: true }));
  const server = spawn(
    process.execPath,
    [join(root, 'bin/sigil.js'), 'serve', 'ca', '--data-dir', dataDir, '--port', '0', '--log-level', 'warn'],
    { stdio: ['ignore', 'inherit', 'pipe'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    server.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  try {
    const load = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/ca/load.ts'), url, seconds, concurrency],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: root,
      },
    );
    let out = '';
    load.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => load.on('exit', resolve));
    if (code !== 0) throw new Error(`load generator exited ${code}`);
    process.stdout.write(out);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
