// The load drivers of the log and CA benches: pre-serialised HTTP/1.1 requests written to keep-alive loopback
// connections over raw sockets with a minimal response parser (not node:http), so that the generator's own CPU
// stays small next to the server's on a shared 2-core machine. Two ways to load a server:
//   - closed loop: a fixed number of requests in flight, the next sent as soon as one is answered (saturation
//     throughput; latency from each send);
//   - open loop: a fixed offered rate on a schedule, whatever the server does; latency counts from each
//     request's scheduled time, so a stall shows up in every request scheduled during it instead of being hidden
//     by the generator waiting.
// Each bench says what a good answer is (`ok`): 201 for a log entry, 200 with a 3-certificate chain for the CA.
import { connect, type Socket } from 'node:net';

export interface Answer {
  status: number;
  head: string;
  body: Buffer;
}

export interface Run {
  /** Latencies of the good answers (ms). */
  latencies: number[];
  errors: number;
  /** Seconds the measured part took. */
  elapsed: number;
}

export interface Load {
  target: URL;
  /** Requests in the order they are sent. */
  requests: Buffer[];
  /** Sends the requests round and round (the CA: tokens may repeat) instead of stopping when they run out. */
  cycle?: boolean;
  ok: (answer: Answer) => boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** One keep-alive connection carrying one request at a time; `done` gets the answer, or undefined if it closed. */
class Conn {
  readonly socket: Socket;
  readonly ready: Promise<void>;
  #buf: Buffer = Buffer.alloc(0);
  #done: ((answer: Answer | undefined) => void) | undefined;
  /** The socket closed: the server may close a keep-alive connection left idle past its timeout. */
  closed = false;

  constructor(target: URL, onClose?: () => void) {
    this.socket = connect(Number(target.port), target.hostname);
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('error', () => {});
    this.socket.on('data', (d: Buffer) => this.#onData(d));
    this.socket.on('close', () => {
      this.closed = true;
      const done = this.#done;
      this.#done = undefined;
      done?.(undefined);
      onClose?.();
    });
  }

  send(request: Buffer, done: (answer: Answer | undefined) => void): void {
    this.#done = done;
    this.socket.write(request);
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const end = this.#buf.indexOf(CRLFCRLF);
    if (end < 0) return;
    const head = this.#buf.toString('latin1', 0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.#buf.length < end + 4 + length) return;
    const body = this.#buf.subarray(end + 4, end + 4 + length);
    // One request in flight per connection, so nothing follows the answer.
    this.#buf = Buffer.alloc(0);
    const done = this.#done;
    this.#done = undefined;
    done?.({ status: Number(head.slice(9, 12)), head, body });
  }
}

/** The next request to send, or undefined when a non-cycling load has sent them all. */
function requestSource(load: Load): () => Buffer | undefined {
  let next = 0;
  return () =>
    load.cycle ? load.requests[next++ % load.requests.length] : (load.requests[next++] ?? undefined);
}

/** `concurrency` connections, each sending its next request as soon as the previous one is answered. */
export async function closedLoop(load: Load, ms: number, concurrency: number): Promise<Run> {
  const conns = Array.from({ length: concurrency }, () => new Conn(load.target));
  await Promise.all(conns.map((c) => c.ready));
  const nextRequest = requestSource(load);
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    conns.map(
      (c) =>
        new Promise<void>((resolve) => {
          const go = () => {
            const request = performance.now() < deadline ? nextRequest() : undefined;
            if (!request) return resolve();
            const sent = performance.now();
            c.send(request, (answer) => {
              if (answer && load.ok(answer)) latencies.push(performance.now() - sent);
              else errors++;
              if (!answer) return resolve();
              go();
            });
          };
          go();
        }),
    ),
  );
  const elapsed = (performance.now() - start) / 1000;
  for (const c of conns) c.socket.destroy();
  return { latencies, errors, elapsed };
}

export interface OpenLoopOptions {
  ms: number;
  /** Requests offered per second. */
  rate: number;
  /** Load at the rate before the measured part, unmeasured (requests scheduled then are sent, not counted). */
  settleMs?: number;
  /** Called when the measured part starts. */
  begin?: () => void;
  /** Connections opened before the phase, so early requests do not pay for handshakes. */
  preopen?: number;
  /** Connections opened at most; beyond that requests wait in the generator (and that counts as latency). */
  maxConnections?: number;
  /** Receives "<scheduled ms from the measured start> <latency ms>" for each counted request. */
  trace?: string[];
}

/**
 * `rate` requests a second on a fixed schedule, each on an idle connection (a new one when none is idle, up to
 * maxConnections); latency counts from the scheduled time, so queueing anywhere (generator, kernel, server) is
 * included. The phase ends when every scheduled request is answered.
 */
export async function openLoop(load: Load, o: OpenLoopOptions): Promise<Run> {
  const { rate, settleMs = 0, preopen = 32, maxConnections = 512 } = o;
  const idle: Conn[] = [];
  let open = 0;
  const opened = () => {
    open++;
    return new Conn(load.target, () => open--);
  };
  for (let i = 0; i < preopen; i++) idle.push(opened());
  await Promise.all(idle.map((c) => c.ready));
  const scheduledTotal = Math.floor((rate * (settleMs + o.ms)) / 1000);
  const total = load.cycle ? scheduledTotal : Math.min(scheduledTotal, load.requests.length);
  const nextRequest = requestSource(load);
  const queue: number[] = [];
  const latencies: number[] = [];
  let errors = 0;
  let finished = 0;
  let sent = 0;
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const start = performance.now();
  const measureFrom = start + settleMs;
  const dispatch = () => {
    while (queue.length > 0) {
      let c = idle.pop();
      // Connections idle since the last burst may have been closed by the server meanwhile: a request written
      // to one would never be answered (its close has been and gone).
      while (c?.closed) c = idle.pop();
      if (!c) {
        if (open >= maxConnections) return;
        c = opened();
      }
      const conn = c;
      const scheduled = queue.shift() as number;
      conn.send(nextRequest() as Buffer, (answer) => {
        if (scheduled >= measureFrom) {
          const latency = performance.now() - scheduled;
          if (answer && load.ok(answer)) {
            latencies.push(latency);
            o.trace?.push(`${(scheduled - measureFrom).toFixed(2)} ${latency.toFixed(2)}`);
          } else errors++;
        }
        if (answer) idle.push(conn);
        if (++finished === total) allDone();
        else dispatch();
      });
    }
  };
  setTimeout(() => o.begin?.(), settleMs);
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / rate <= now) {
        queue.push(start + (sent * 1000) / rate);
        sent++;
      }
      dispatch();
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  if (total > 0) await done;
  const elapsed = (performance.now() - measureFrom) / 1000;
  for (const c of idle) c.socket.destroy();
  return { latencies, errors, elapsed };
}
