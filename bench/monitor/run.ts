// Monitor benchmark (#18): entries scanned per second by `sigil monitor`, cold (no state), on a synthetic log of N
// entries served as C2SP tlog-tiles from this process. Each entry is a real Rekor v1 hashedrekord body carrying a
// public-good Fulcio leaf certificate (the sigstore-conformance happy-path bundle's), with a distinct artifact digest
// per index, so the monitor does its full per-entry work (split, leaf hash, JSON, certificate parse, match); entry
// bundles are generated on request, and the checkpoint (signed with a key made here) commits to all N entries.
// The monitor runs as the built CLI in its own process; prints one JSON line: entries, seconds, entries/s (process
// start included), and a warm restart's time (no new entries).
//   npm run build && node --import tsx bench/monitor/run.ts [--entries 1000000] [--cpu-prof DIR]
// (--cpu-prof DIR: the cold run of the monitor writes a V8 CPU profile to DIR, for chrome://inspect or speedscope.)
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCheckpoint, formatSignedNote, parseTilePath, TILE_WIDTH } from '../../src/formats/index.js';
import { CompactRange, leafHash } from '../../src/merkle/index.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const N = Number(arg('entries', '1000000'));
const PROFILE_DIR = arg('cpu-prof', '');
const ROOT = join(import.meta.dirname, '..', '..');

const bundle = JSON.parse(
  readFileSync(
    join(ROOT, 'test/fixtures/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json'),
    'utf8',
  ),
);
const certPem = `-----BEGIN CERTIFICATE-----\n${bundle.verificationMaterial.certificate.rawBytes.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
const signature = bundle.messageSignature.signature as string;

/** Entry i: a canonical hashedrekord body (keys sorted) whose artifact digest is SHA-256 of i. */
function entry(i: number): Buffer {
  const digest = createHash('sha256').update(String(i)).digest('hex');
  return Buffer.from(
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: digest } },
        signature: { content: signature, publicKey: { content: Buffer.from(certPem).toString('base64') } },
      },
    }),
  );
}

// The server builds bundles from entry 0 cut around its digest (the only part that differs), so that serving the
// log costs little next to the monitor it measures; the bytes are entry(i)'s, which a check below asserts.
const DIGEST_AT = entry(0).indexOf(createHash('sha256').update('0').digest('hex'));
const HEAD = entry(0).subarray(0, DIGEST_AT);
const TAIL = entry(0).subarray(DIGEST_AT + 64);

function entryBundle(index: number, width: number): Buffer {
  const size = HEAD.length + 64 + TAIL.length;
  const out = Buffer.allocUnsafe(width * (2 + size));
  let at = 0;
  for (let i = index * TILE_WIDTH; i < index * TILE_WIDTH + width; i++) {
    at = out.writeUInt16BE(size, at);
    at += HEAD.copy(out, at);
    at += out.write(createHash('sha256').update(String(i)).digest('hex'), at, 'latin1');
    at += TAIL.copy(out, at);
  }
  return out;
}
if (
  !entryBundle(3, 1)
    .subarray(2)
    .equals(entry(TILE_WIDTH * 3))
)
  throw new Error('entryBundle and entry disagree');

const t0 = performance.now();
const range = CompactRange.empty();
for (let i = 0; i < N; i++) range.append(leafHash(entry(i)));
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = publicKey.export({ type: 'spki', format: 'der' });
const text = formatCheckpoint({ origin: 'bench.example - 1', size: N, rootHash: range.root() });
const checkpoint = formatSignedNote({
  text,
  signatures: [
    {
      name: 'bench.example',
      keyId: createHash('sha256').update(spki).digest().subarray(0, 4),
      signature: sign('sha256', Buffer.from(text), privateKey),
    },
  ],
});
process.stderr.write(`built a ${N}-entry log in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

const server = createServer((req, res) => {
  if (req.url === '/checkpoint') return res.writeHead(200).end(checkpoint);
  const ref = req.url?.startsWith('/tile/') ? parseTilePath(req.url.slice('/tile/'.length)) : undefined;
  if (ref?.level !== 'entries') return res.writeHead(404).end();
  res.writeHead(200).end(entryBundle(ref.index, ref.width ?? TILE_WIDTH));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
const work = await mkdtemp(join(tmpdir(), 'sigil-bench-monitor-'));
await writeFile(join(work, 'log.pub'), publicKey.export({ type: 'spki', format: 'pem' }));

/** One `sigil monitor --once` run: wall seconds (process start included), exit code, output. */
function run(profile = false): Promise<{ seconds: number; code: number; stdout: string }> {
  const start = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        ...(profile ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []),
        join(ROOT, 'bin/sigil.js'),
        'monitor',
        '--identity',
        'nobody@example.com',
        '--log-url',
        `http://127.0.0.1:${port}`,
        '--log-key',
        join(work, 'log.pub'),
        '--state',
        join(work, 'state.json'),
        '--once',
        '--json',
      ],
      { maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => {
        resolve({
          seconds: (performance.now() - start) / 1000,
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          stdout,
        });
      },
    );
  });
}

const cold = await run(PROFILE_DIR !== '');
const warm = await run();
server.close();
await rm(work, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'monitor',
    entries: N,
    coldSeconds: Number(cold.seconds.toFixed(2)),
    entriesPerSecond: Math.round(N / cold.seconds),
    coldExit: cold.code,
    warmSeconds: Number(warm.seconds.toFixed(2)),
    warmOutput: warm.stdout.trim(),
  }),
);
