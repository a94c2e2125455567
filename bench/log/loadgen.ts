// Load generator for the log benchmark, run as its own process: precomputes distinct, validly signed hashedrekord
// proposals (so the server does its full work and never answers 409) as ready-to-send HTTP/1.1 requests, then
// writes them to keep-alive loopback connections, either closed-loop (fixed concurrency, as fast as acknowledged)
// or open-loop (a fixed offered rate; latency is measured from the scheduled send time, so a stall is not hidden
// by the generator waiting). It speaks HTTP/1.1 over raw sockets with a minimal response parser rather than
// through node:http, so that the generator's own CPU (reported as cpuUsPerRequest) stays small next to the
// server's on a shared 2-core machine. Prints one JSON result line on stdout.
//   node --import tsx bench/log/loadgen.ts <url> closed|open <concurrency|rate> <seconds> [distinct keys]
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import net from 'node:net';
import { percentile } from '../lib/stats.js';

const [url, mode, arg, seconds, keysArg] = process.argv.slice(2);
const duration = Number(seconds) * 1000;
const target = new URL('/api/v1/log/entries', url);
/** Signing keys the proposals rotate through; keyless signers use a fresh key each time, so default to many. */
const KEYS = Number(keysArg ?? 256);
/** Open loop: connections opened at most; beyond that requests queue in the generator (and count as latency). */
const MAX_CONNECTIONS = 512;

function proposals(n: number): Buffer[] {
  const keys = Array.from({ length: Math.min(KEYS, n) }, () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  );
  const pems = keys.map((k) =>
    Buffer.from(k.publicKey.export({ type: 'spki', format: 'pem' })).toString('base64'),
  );
  const head = `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\n`;
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const artifact = Buffer.from(`bench ${process.pid} ${Date.now()} ${i}`);
    const k = i % keys.length;
    const body = Buffer.from(
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
    );
    out.push(Buffer.concat([Buffer.from(`${head}Content-Length: ${body.length}\r\n\r\n`), body]));
  }
  return out;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** One keep-alive connection carrying one request at a time. */
class Conn {
  readonly socket: net.Socket;
  #buf: Buffer = Buffer.alloc(0);
  #done: ((status: number) => void) | undefined;
  readonly ready: Promise<void>;

  constructor(onClose: (c: Conn) => void) {
    this.socket = net.connect(Number(target.port), target.hostname);
    this.socket.setNoDelay(true);
    this.ready = new Promise((res, rej) => {
      this.socket.once('connect', () => res());
      this.socket.once('error', rej);
    });
    this.socket.on('data', (d) => this.#onData(d));
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      const done = this.#done;
      this.#done = undefined;
      done?.(0);
      onClose(this);
    });
  }

  send(request: Buffer, done: (status: number) => void): void {
    this.#done = done;
    this.socket.write(request);
  }

  #onData(d: Buffer): void {
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    const end = this.#buf.indexOf(CRLFCRLF);
    if (end < 0) return;
    const headers = this.#buf.toString('latin1', 0, end);
    const m = /\r\ncontent-length: *(\d+)/i.exec(headers);
    const total = end + 4 + (m ? Number(m[1]) : 0);
    if (this.#buf.length < total) return;
    // One request in flight per connection, so nothing follows the response.
    this.#buf = Buffer.alloc(0);
    const status = Number(headers.slice(9, 12));
    const done = this.#done;
    this.#done = undefined;
    done?.(status);
  }
}

interface Run {
  acked: number;
  errors: number;
  elapsed: number;
  latencies: number[];
}

async function closedLoop(concurrency: number, bodies: Buffer[]): Promise<Run> {
  const conns = Array.from({ length: concurrency }, () => new Conn(() => {}));
  await Promise.all(conns.map((c) => c.ready));
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const start = performance.now();
  const end = start + duration;
  await Promise.all(
    conns.map(
      (c) =>
        new Promise<void>((resolve) => {
          const go = () => {
            if (performance.now() >= end || next >= bodies.length) return resolve();
            const t = performance.now();
            c.send(bodies[next++], (status) => {
              if (status === 201) latencies.push(performance.now() - t);
              else errors++;
              if (status === 0) return resolve();
              go();
            });
          };
          go();
        }),
    ),
  );
  const elapsed = (performance.now() - start) / 1000;
  for (const c of conns) c.socket.destroy();
  return { acked: latencies.length, errors, elapsed, latencies };
}

async function openLoop(rate: number, bodies: Buffer[]): Promise<Run> {
  const idle: Conn[] = [];
  let open = 0;
  const queue: { body: Buffer; scheduled: number }[] = [];
  const latencies: number[] = [];
  let errors = 0;
  let finished = 0;
  const total = Math.min(bodies.length, Math.floor((rate * duration) / 1000));
  // Warm a few connections so the first requests do not pay for the handshake.
  for (let i = 0; i < 32; i++) {
    const c = new Conn(() => open--);
    open++;
    await c.ready;
    idle.push(c);
  }
  let allDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    allDone = r;
  });
  const dispatch = () => {
    while (queue.length > 0) {
      let c = idle.pop();
      if (!c) {
        if (open >= MAX_CONNECTIONS) return;
        c = new Conn(() => open--);
        open++;
      }
      const { body, scheduled } = queue.shift() as { body: Buffer; scheduled: number };
      const conn = c;
      conn.send(body, (status) => {
        if (status === 201) latencies.push(performance.now() - scheduled);
        else errors++;
        if (status !== 0) idle.push(conn);
        if (++finished === total) allDone();
        else dispatch();
      });
    }
  };
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / rate <= now) {
        queue.push({ body: bodies[sent], scheduled: start + (sent * 1000) / rate });
        sent++;
      }
      dispatch();
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await done;
  const elapsed = (performance.now() - start) / 1000;
  for (const c of idle) c.socket.destroy();
  return { acked: latencies.length, errors, elapsed, latencies };
}

const n = mode === 'open' ? Math.ceil((Number(arg) * duration) / 1000) : Math.ceil(duration * 12);
const bodies = proposals(n);
// Tells bench/log/run.ts (when it started us) that precomputing is over, so it can sample the server's CPU.
process.send?.('start');
const cpu0 = process.cpuUsage();
const r = mode === 'open' ? await openLoop(Number(arg), bodies) : await closedLoop(Number(arg), bodies);
const cpu = process.cpuUsage(cpu0);
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
    loadgenCpuUsPerRequest: Math.round((cpu.user + cpu.system) / Math.max(1, r.acked + r.errors)),
  })}\n`,
);
process.exit(0);
