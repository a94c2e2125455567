// Load generator for a timestamp authority (run in its own process by bench/tsa/run.ts): pre-serialised RFC 3161
// queries (each a distinct SHA-256 imprint and nonce, certReq set, as cosign and sigstore-go send them) written
// to keep-alive loopback connections by bench/lib/http-load.ts, in two measured phases, one JSON line each:
//   - closed loop: CONCURRENCY requests in flight (saturation throughput, latency from each send);
//   - open loop: RATE requests a second on a fixed schedule, latency from each scheduled send (the p99 target).
// A good answer is 200 with a granted TimeStampResp (status INTEGER 0 at its start).
//   node --import tsx bench/tsa/load.ts <url> [seconds=10] [concurrency=32] [rate=1000]
import { createHash, randomBytes } from 'node:crypto';
import { encodeTimestampRequest } from '../../src/formats/index.js';
import { type Answer, closedLoop, type Load, openLoop, type Run } from '../lib/http-load.js';
import { percentile } from '../lib/stats.js';

const [base, secondsArg = '10', concurrencyArg = '32', rateArg = '1000'] = process.argv.slice(2);
const MS = Number(secondsArg) * 1000;
const CONCURRENCY = Number(concurrencyArg);
const RATE = Number(rateArg);
const WARMUP_MS = Number(process.env.SIGIL_BENCH_WARMUP ?? '5') * 1000;
const url = new URL(base);

function requests(n: number): Buffer[] {
  return Array.from({ length: n }, () => {
    const body = encodeTimestampRequest({
      hashAlgorithm: 'sha256',
      hashedMessage: createHash('sha256').update(randomBytes(16)).digest(),
      nonce: Buffer.concat([Buffer.from([0x01]), randomBytes(7)]),
      certReq: true,
    });
    return Buffer.concat([
      Buffer.from(
        `POST /api/v1/timestamp HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/timestamp-query\r\n` +
          `content-length: ${body.length}\r\n\r\n`,
      ),
      body,
    ]);
  });
}

/** TimeStampResp ::= SEQUENCE { status PKIStatusInfo ::= SEQUENCE { status INTEGER 0 … } … } */
function granted({ head, body }: Answer): boolean {
  const ok =
    /^HTTP\/1\.1 20[01]/.test(head) &&
    body.length > 100 &&
    body.includes(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]));
  if (!ok) process.stderr.write(`error: ${head.split('\r\n')[0]} ${body.subarray(0, 100).toString('hex')}\n`);
  return ok;
}

function summary(phase: string, run: Run, cpu: NodeJS.CpuUsage) {
  const l = run.latencies.sort((a, b) => a - b);
  return {
    phase,
    ...(phase === 'open' ? { offeredPerSecond: RATE } : { concurrency: CONCURRENCY }),
    timestamps: l.length,
    errors: run.errors,
    seconds: Number(run.elapsed.toFixed(2)),
    perSecond: Math.round(l.length / run.elapsed),
    p50ms: Number(percentile(l, 50).toFixed(2)),
    p99ms: Number(percentile(l, 99).toFixed(2)),
    maxMs: Number((l[l.length - 1] ?? Number.NaN).toFixed(2)),
    loadgenCpuUsPerReq: Math.round((cpu.user + cpu.system) / Math.max(1, l.length + run.errors)),
  };
}

async function measured(phase: string, fn: (begin: () => void) => Promise<Run>): Promise<void> {
  let cpu0 = process.cpuUsage();
  const run = await fn(() => {
    process.stdout.write(`measuring ${phase}\n`);
    cpu0 = process.cpuUsage();
  });
  process.stdout.write(`${JSON.stringify(summary(phase, run, process.cpuUsage(cpu0)))}\n`);
}

async function main() {
  const load: Load = { target: url, requests: requests(4096), cycle: true, ok: granted };
  await closedLoop(load, WARMUP_MS, CONCURRENCY || 32);
  if (CONCURRENCY > 0)
    await measured('closed', (begin) => {
      begin();
      return closedLoop(load, MS, CONCURRENCY);
    });
  if (RATE > 0)
    await measured('open', (begin) =>
      openLoop(load, { ms: MS, rate: RATE, settleMs: 1000, begin, preopen: 64 }),
    );
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
