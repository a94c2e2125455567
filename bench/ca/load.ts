// Load generator for the CA (run in its own process by bench/ca/run.ts): fetches identity tokens from the
// server's dev-mode issuer, prepares distinct client keys (each with its own token) and their proofs of
// possession, then drives POST /api/v2/signingCert over keep-alive HTTP/1.1 connections on loopback in up to
// two measured phases and prints one JSON result line per phase:
//   - closed loop: CONCURRENCY requests kept in flight (a new one as soon as one is answered): the saturation
//     throughput, with latency measured from each request's send;
//   - open loop: RATE requests a second offered on a fixed schedule whatever the server does, latency measured
//     from each request's scheduled send time (RFC 2544-style offered load), so a server stall shows up as
//     latency of every request scheduled during it instead of being hidden by the generator waiting. This is
//     the phase the target (rate sustained with a p99 bound) is judged on.
// Both are preceded by SIGIL_BENCH_WARMUP seconds (default 10) of closed-loop warm-up, and the open phase by
// SIGIL_BENCH_OPEN_SETTLE seconds (default 2) of unmeasured load at its rate. The drivers are
// bench/lib/http-load.ts (pre-serialised requests, raw sockets); each response is checked for status 200 and a
// 3-certificate chain.
//   node --import tsx bench/ca/load.ts <url> [seconds=10] [concurrency=32, 0: no closed phase] [rate=2000, 0: no open phase]
// Before each measured phase it prints `measuring <phase>` on a line of its own, so run.ts can sample the
// server's CPU at the phase's boundaries.
import { generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { type Answer, closedLoop, type Load, openLoop, type Run } from '../lib/http-load.js';
import { percentile } from '../lib/stats.js';

const [base, durationArg = '10', concurrencyArg = '32', rateArg = '2000'] = process.argv.slice(2);
const DURATION_MS = Number(durationArg) * 1000;
const CONCURRENCY = Number(concurrencyArg);
const RATE = Number(rateArg);
const WARMUP_MS = Number(process.env.SIGIL_BENCH_WARMUP ?? '10') * 1000;
const KEYS = 256;
/** Open loop: unmeasured load at the offered rate before its measured part (SIGIL_BENCH_OPEN_SETTLE seconds). */
const OPEN_SETTLE_MS = Number(process.env.SIGIL_BENCH_OPEN_SETTLE ?? '2') * 1000;
/** SIGIL_BENCH_TRACE=<file>: the open loop's requests as "<scheduled ms from start> <latency ms>" lines. */
const TRACE = process.env.SIGIL_BENCH_TRACE;
/** Open loop: connections opened at most; beyond that requests wait in the generator (and that counts). */
const MAX_CONNECTIONS = 512;
/** Open loop: connections opened before the phase starts, so early requests do not pay for handshakes. */
const PREOPEN = 64;

const agent = new Agent({ keepAlive: true, maxSockets: 8 });
const url = new URL(base);

function post(path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Ready-to-write requests, each with a different key and token (as ephemeral-key CI clients send them). */
async function prepareRequests(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < KEYS; i++) {
    const r = await post(
      '/oidc/dev/token',
      JSON.stringify({
        repository: `bench/repo${i}`,
        workflow: '.github/workflows/release.yml',
        ref: 'refs/heads/main',
      }),
    );
    if (r.status !== 200) throw new Error(`dev token: ${r.status} ${r.body}`);
    const token = JSON.parse(r.body).value as string;
    const sub = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub as string;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const body = JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: {
        publicKey: {
          algorithm: 'ECDSA',
          content: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
        proofOfPossession: sign('sha256', Buffer.from(sub), privateKey).toString('base64'),
      },
    });
    out.push(
      Buffer.from(
        `POST /api/v2/signingCert HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      ),
    );
  }
  return out;
}

const CHAIN_MARK = Buffer.from('BEGIN CERTIFICATE');

/** A good answer: 200 with a 3-certificate chain; anything else is reported on stderr. */
function goodChain({ head, body }: Answer): boolean {
  let certs = 0;
  for (let i = body.indexOf(CHAIN_MARK); i >= 0; i = body.indexOf(CHAIN_MARK, i + 1)) certs++;
  const ok = head.startsWith('HTTP/1.1 200') && certs === 3;
  if (!ok) process.stderr.write(`error: ${head.split('\r\n')[0]} ${body.subarray(0, 200)}\n`);
  return ok;
}

function summary(phase: string, run: Run, cpu: NodeJS.CpuUsage) {
  const l = run.latencies.sort((a, b) => a - b);
  const pct = (p: number) => percentile(l, p);
  return {
    phase,
    ...(phase === 'open' ? { offeredPerSecond: RATE } : { concurrency: CONCURRENCY }),
    certificates: l.length,
    errors: run.errors,
    seconds: Number(run.elapsed.toFixed(2)),
    certsPerSecond: Math.round(l.length / run.elapsed),
    p50ms: Number(pct(50).toFixed(2)),
    p90ms: Number(pct(90).toFixed(2)),
    p99ms: Number(pct(99).toFixed(2)),
    maxMs: Number((l[l.length - 1] ?? Number.NaN).toFixed(2)),
    // The generator shares the machine's cores with the server: what it costs per request matters too.
    loadgenCpuUsPerReq: Math.round((cpu.user + cpu.system) / Math.max(1, l.length + run.errors)),
  };
}

/** Runs a phase; `begin` is called when its measured part starts (at once, unless the phase settles first). */
async function measured(phase: string, fn: (begin: () => void) => Promise<Run>): Promise<void> {
  let cpu0 = process.cpuUsage();
  const run = await fn(() => {
    // Tells run.ts the measured part starts (it samples the server's CPU time here and at the result line).
    process.stdout.write(`measuring ${phase}\n`);
    cpu0 = process.cpuUsage();
  });
  process.stdout.write(`${JSON.stringify(summary(phase, run, process.cpuUsage(cpu0)))}\n`);
}

async function main() {
  const load: Load = { target: url, requests: await prepareRequests(), cycle: true, ok: goodChain };
  // Warm up under full load first: the server's JIT compiles its hot paths on every thread (four isolates) in
  // the first seconds, which on a busy 2-core machine takes ~10 s of load (V8's compiler threads are busy until
  // then, --trace-opt shows it settling); steady state is what is measured.
  await closedLoop(load, WARMUP_MS, CONCURRENCY || 32);
  if (CONCURRENCY > 0)
    await measured('closed', (begin) => {
      begin();
      return closedLoop(load, DURATION_MS, CONCURRENCY);
    });
  // The open phase first runs OPEN_SETTLE_MS at its rate unmeasured: after the closed phase at saturation the
  // CT tree merger is behind and catches up in one large batch, and new connections are being opened; a server
  // that has been taking 2,000/s for a while is in neither state. The trace showed medians of 20-50 ms for the
  // first ~0.5 s after the switch, then steady state.
  if (RATE > 0) {
    const trace = TRACE ? ([] as string[]) : undefined;
    await measured('open', (begin) =>
      openLoop(load, {
        ms: DURATION_MS,
        rate: RATE,
        settleMs: OPEN_SETTLE_MS,
        begin,
        preopen: PREOPEN,
        maxConnections: MAX_CONNECTIONS,
        trace,
      }),
    );
    if (TRACE && trace) writeFileSync(TRACE, `${trace.join('\n')}\n`);
  }
  agent.destroy();
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
