// Load generator for the log benchmark, run as its own process: precomputes distinct, validly signed hashedrekord
// proposals (so the server does its full work and never answers 409), then POSTs them over HTTP keep-alive
// connections, either closed-loop (fixed concurrency, as fast as acknowledged) or open-loop (a fixed offered rate;
// latency is measured from the scheduled send time, so a stall is not hidden by the generator waiting).
// Prints one JSON result line on stdout.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import http from 'node:http';

const [url, mode, arg, seconds] = process.argv.slice(2);
const duration = Number(seconds) * 1000;
const target = new URL('/api/v1/log/entries', url);

function proposals(n: number): Buffer[] {
  const keys = Array.from({ length: 16 }, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const pems = keys.map((k) =>
    Buffer.from(k.publicKey.export({ type: 'spki', format: 'pem' })).toString('base64'),
  );
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const artifact = Buffer.from(`bench ${process.pid} ${Date.now()} ${i}`);
    const k = i % keys.length;
    out.push(
      Buffer.from(
        JSON.stringify({
          apiVersion: '0.0.1',
          kind: 'hashedrekord',
          spec: {
            data: {
              hash: { algorithm: 'sha256', value: createHash('sha256').update(artifact).digest('hex') },
            },
            signature: {
              content: sign('sha256', artifact, keys[k].privateKey).toString('base64'),
              publicKey: { content: pems[k] },
            },
          },
        }),
      ),
    );
  }
  return out;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function postOne(body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      target,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function closedLoop(concurrency: number, bodies: Buffer[]) {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const start = performance.now();
  const end = start + duration;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end && next < bodies.length) {
        const t = performance.now();
        const status = await postOne(bodies[next++]);
        if (status === 201) latencies.push(performance.now() - t);
        else errors++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { acked: latencies.length, errors, elapsed, latencies };
}

async function openLoop(rate: number, bodies: Buffer[]) {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const total = Math.floor((rate * duration) / 1000);
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = start + (i * 1000) / rate;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      postOne(bodies[i]).then(
        (status) => {
          if (status === 201) latencies.push(performance.now() - scheduled);
          else errors++;
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  return { acked: latencies.length, errors, elapsed, latencies };
}

const n = mode === 'open' ? Math.ceil((Number(arg) * duration) / 1000) : Math.ceil(duration * 12);
const bodies = proposals(n);
const r = mode === 'open' ? await openLoop(Number(arg), bodies) : await closedLoop(Number(arg), bodies);
const sorted = r.latencies.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({
    mode,
    arg: Number(arg),
    acked: r.acked,
    errors: r.errors,
    seconds: Number(r.elapsed.toFixed(2)),
    throughput: Math.round(r.acked / r.elapsed),
    p50ms: Number(percentile(sorted, 50).toFixed(1)),
    p99ms: Number(percentile(sorted, 99).toFixed(1)),
  })}\n`,
);
agent.destroy();
