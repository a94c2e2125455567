// Load generator for the log benchmark, run as its own process: precomputes distinct, validly signed hashedrekord
// proposals (so the server does its full work and never answers 409) as ready-to-send HTTP/1.1 requests, then
// drives the server with bench/lib/http-load.ts, closed-loop (fixed concurrency, as fast as acknowledged) or
// open-loop (a fixed offered rate; latency from the scheduled send time). Prints one JSON result line on stdout.
//   node --import tsx bench/log/loadgen.ts <url> closed|open <concurrency|rate> <seconds> [distinct keys] [v1|v2]
// v2: Rekor v2 hashedrekord v0.0.2 requests to /api/v2/log/entries (DER key, keyDetails) instead of Rekor v1's.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { type Answer, closedLoop, openLoop } from '../lib/http-load.js';
import { percentile } from '../lib/stats.js';

const [url, mode, arg, seconds, keysArg, api = 'v1'] = process.argv.slice(2);
const duration = Number(seconds) * 1000;
const target = new URL(api === 'v2' ? '/api/v2/log/entries' : '/api/v1/log/entries', url);
/** Signing keys the proposals rotate through; keyless signers use a fresh key each time, so default to many. */
const KEYS = Number(keysArg ?? 256);

function proposals(n: number): Buffer[] {
  const keys = Array.from({ length: Math.min(KEYS, n) }, () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  );
  const pems = keys.map((k) =>
    Buffer.from(k.publicKey.export({ type: 'spki', format: 'pem' })).toString('base64'),
  );
  const ders = keys.map((k) => k.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
  const head = `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\n`;
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const artifact = Buffer.from(`bench ${process.pid} ${Date.now()} ${i}`);
    const k = i % keys.length;
    const digest = createHash('sha256').update(artifact).digest();
    const signature = sign('sha256', artifact, keys[k].privateKey).toString('base64');
    const v2 = {
      hashedRekordRequestV002: {
        digest: digest.toString('base64'),
        signature: {
          content: signature,
          verifier: { publicKey: { rawBytes: ders[k] }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
        },
      },
    };
    const body = Buffer.from(
      JSON.stringify(
        api === 'v2'
          ? v2
          : {
              apiVersion: '0.0.1',
              kind: 'hashedrekord',
              spec: {
                data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
                signature: { content: signature, publicKey: { content: pems[k] } },
              },
            },
      ),
    );
    out.push(Buffer.concat([Buffer.from(`${head}Content-Length: ${body.length}\r\n\r\n`), body]));
  }
  return out;
}

const n = mode === 'open' ? Math.ceil((Number(arg) * duration) / 1000) : Math.ceil(duration * 12);
const bodies = proposals(n);
// Tells bench/log/run.ts (when it started us) that precomputing is over, so it can sample the server's CPU.
process.send?.('start');
const cpu0 = process.cpuUsage();
const load = { target, requests: bodies, ok: (a: Answer) => a.status === 201 };
const r =
  mode === 'open'
    ? await openLoop(load, { ms: duration, rate: Number(arg) })
    : await closedLoop(load, duration, Number(arg));
const cpu = process.cpuUsage(cpu0);
const acked = r.latencies.length;
const sorted = r.latencies.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({
    api,
    mode,
    arg: Number(arg),
    acked,
    errors: r.errors,
    seconds: Number(r.elapsed.toFixed(2)),
    throughput: Math.round(acked / r.elapsed),
    p50ms: Number(percentile(sorted, 50).toFixed(1)),
    p99ms: Number(percentile(sorted, 99).toFixed(1)),
    loadgenCpuUsPerRequest: Math.round((cpu.user + cpu.system) / Math.max(1, acked + r.errors)),
  })}\n`,
);
process.exit(0);
