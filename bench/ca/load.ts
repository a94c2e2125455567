// Load generator for the CA (run in its own process by bench/ca/run.ts): fetches identity tokens from the
// server's dev-mode issuer, prepares distinct client keys (each with its own token) and their proofs of
// possession, then keeps CONCURRENCY POST /api/v2/signingCert requests in flight (SIGIL_BENCH_WARMUP seconds,
// default 10, of warm-up, then DURATION measured seconds) over keep-alive HTTP/1.1 connections and prints
// throughput and latency percentiles as JSON. Requests are
// pre-serialised and responses parsed minimally so the generator spends little of the shared CPU; each response
// is still checked for status 200 and a 3-certificate chain.
import { generateKeyPairSync, sign } from 'node:crypto';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';

const [base, durationArg = '10', concurrencyArg = '32'] = process.argv.slice(2);
const DURATION_MS = Number(durationArg) * 1000;
const CONCURRENCY = Number(concurrencyArg);
const WARMUP_MS = Number(process.env.SIGIL_BENCH_WARMUP ?? '10') * 1000;
const KEYS = 256;
const TOKENS = KEYS;

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
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

async function main() {
  const tokens: { token: string; sub: string }[] = [];
  for (let i = 0; i < TOKENS; i++) {
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
    tokens.push({ token, sub: JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub });
  }
  // Every request carries a different key (as ephemeral-key clients do); proofs are precomputed.
  const bodies: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const t = tokens[i % TOKENS];
    bodies.push(
      JSON.stringify({
        credentials: { oidcIdentityToken: t.token },
        publicKeyRequest: {
          publicKey: {
            algorithm: 'ECDSA',
            content: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          },
          proofOfPossession: sign('sha256', Buffer.from(t.sub), privateKey).toString('base64'),
        },
      }),
    );
  }
  // Warm up connections and caches (JWKS fetch) before measuring.
  await Promise.all(bodies.slice(0, CONCURRENCY).map((b) => post('/api/v2/signingCert', b)));

  const requests = bodies.map((b) =>
    Buffer.from(
      `POST /api/v2/signingCert HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(b)}\r\n\r\n${b}`,
    ),
  );
  const CHAIN_MARK = Buffer.from('BEGIN CERTIFICATE');
  let latencies: number[] = [];
  let errors = 0;
  let next = 0;

  /** One keep-alive connection sending a request, waiting for its whole response, and repeating. */
  function worker(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket: Socket = connect(Number(url.port), url.hostname);
      socket.setNoDelay(true);
      let buf: Buffer = Buffer.alloc(0);
      let t0 = 0;
      const send = () => {
        if (performance.now() >= deadline) {
          socket.end();
          resolve();
          return;
        }
        t0 = performance.now();
        socket.write(requests[next++ % requests.length]);
      };
      socket.on('connect', send);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        const headerEnd = buf.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const head = buf.subarray(0, headerEnd).toString('latin1');
        const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 'NaN');
        if (buf.length < headerEnd + 4 + len) return;
        const body = buf.subarray(headerEnd + 4, headerEnd + 4 + len);
        buf = buf.subarray(headerEnd + 4 + len);
        const dt = performance.now() - t0;
        let certs = 0;
        for (let i = body.indexOf(CHAIN_MARK); i >= 0; i = body.indexOf(CHAIN_MARK, i + 1)) certs++;
        if (!head.startsWith('HTTP/1.1 200') || certs !== 3) {
          errors++;
          if (errors < 3) process.stderr.write(`error: ${head.split('\r\n')[0]} ${body.subarray(0, 200)}\n`);
        } else latencies.push(dt);
        send();
      });
    });
  }
  const load = (ms: number) => {
    const deadline = performance.now() + ms;
    return Promise.all(Array.from({ length: CONCURRENCY }, () => worker(deadline)));
  };

  // Warm up under full load first: the server's JIT compiles its hot paths on every thread (four isolates) in
  // the first seconds, which on a busy 2-core machine takes ~10 s of load (V8's compiler threads are busy until
  // then, --trace-opt shows it settling); steady state is what is measured.
  await load(WARMUP_MS);
  latencies = [];
  errors = 0;
  // Tells run.ts the timed phase starts (it samples the server's CPU time here and at the end).
  process.stdout.write('measuring\n');
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await load(DURATION_MS);
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  process.stdout.write(
    `${JSON.stringify({
      certificates: latencies.length,
      errors,
      seconds: Number(elapsed.toFixed(2)),
      certsPerSecond: Math.round(latencies.length / elapsed),
      p50ms: Number(pct(50).toFixed(2)),
      p99ms: Number(pct(99).toFixed(2)),
      maxMs: Number(latencies[latencies.length - 1].toFixed(2)),
      concurrency: CONCURRENCY,
      // The generator shares the machine's cores with the server: what it costs per request matters too.
      loadgenCpuUsPerReq: Math.round((cpu.user + cpu.system) / (latencies.length + errors)),
    })}\n`,
  );
  agent.destroy();
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
