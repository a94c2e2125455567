// Load generator for bench/registry/run.ts, run as its own process so it never shares an event loop with the
// server under test. Speaks plain distribution-spec HTTP (node:http, keep-alive), so it drives sigil's registry
// and CNCF distribution identically. Usage: load.ts '<json {url, test, ...}>' → one JSON result on stdout.
import { createHash, randomBytes } from 'node:crypto';
import { Agent, type IncomingMessage, request } from 'node:http';

interface Job {
  url: string;
  test: 'push' | 'pull' | 'manifest-get';
  repo: string;
  /** push: bytes per blob; how many blobs. */
  size?: number;
  count?: number;
  /** pull: digests to fetch (from a previous push run). */
  digests?: string[];
  /** manifest-get: duration and connection count. */
  seconds?: number;
  connections?: number;
  tag?: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function call(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<{ res: IncomingMessage; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => resolve({ res, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) req.setHeader('content-length', String(body.length));
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(latencies: number[]) {
  const s = [...latencies].sort((a, b) => a - b);
  return { p50Ms: +percentile(s, 50).toFixed(2), p99Ms: +percentile(s, 99).toFixed(2) };
}

async function push(job: Job) {
  const size = job.size!;
  const count = job.count!;
  const base = randomBytes(size);
  const digests: string[] = [];
  const latencies: number[] = [];
  let wall = 0;
  for (let i = 0; i < count; i++) {
    // Unique content per blob so neither registry can skip work by deduplication.
    base.writeUInt32BE(i, 0);
    base.writeUInt32BE(process.pid, 4);
    const digest = `sha256:${createHash('sha256').update(base).digest('hex')}`;
    const t0 = performance.now();
    const post = await call(`${job.url}/v2/${job.repo}/blobs/uploads/`, 'POST', { 'content-length': '0' });
    if (post.res.statusCode !== 202) throw new Error(`POST ${post.res.statusCode}`);
    const location = new URL(post.res.headers.location!, job.url);
    location.searchParams.set('digest', digest);
    const put = await call(location.toString(), 'PUT', { 'content-type': 'application/octet-stream' }, base);
    if (put.res.statusCode !== 201) throw new Error(`PUT ${put.res.statusCode}`);
    const ms = performance.now() - t0;
    wall += ms;
    latencies.push(ms);
    digests.push(digest);
  }
  return {
    mbPerSec: +((size * count) / 1048576 / (wall / 1000)).toFixed(1),
    ops: count,
    ...summary(latencies),
    digests,
  };
}

async function pull(job: Job) {
  const latencies: number[] = [];
  let bytes = 0;
  let wall = 0;
  for (const digest of job.digests!) {
    const t0 = performance.now();
    const got = await call(`${job.url}/v2/${job.repo}/blobs/${digest}`, 'GET', {});
    if (got.res.statusCode !== 200) throw new Error(`GET blob ${got.res.statusCode}`);
    const ms = performance.now() - t0;
    wall += ms;
    latencies.push(ms);
    bytes += got.bytes;
  }
  return {
    mbPerSec: +(bytes / 1048576 / (wall / 1000)).toFixed(1),
    ops: job.digests!.length,
    ...summary(latencies),
  };
}

async function manifestGet(job: Job) {
  const url = `${job.url}/v2/${job.repo}/manifests/${job.tag}`;
  const headers = { accept: 'application/vnd.oci.image.manifest.v1+json' };
  const deadline = performance.now() + job.seconds! * 1000;
  const latencies: number[] = [];
  let errors = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const got = await call(url, 'GET', headers);
      if (got.res.statusCode !== 200) errors++;
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: job.connections! }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return {
    reqPerSec: Math.round(latencies.length / seconds),
    requests: latencies.length,
    errors,
    ...summary(latencies),
  };
}

const job = JSON.parse(process.argv[2]) as Job;
const run = { push, pull, 'manifest-get': manifestGet }[job.test];
run(job).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    agent.destroy();
  },
  (err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  },
);
