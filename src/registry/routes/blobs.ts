// Blobs (end-2 GET/HEAD, end-10 DELETE): streamed from storage with Range support, never read whole into memory.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../engine.js';
import { RegistryError } from '../errors.js';
import { assertName, type ParsedDigest, parseDigest } from '../names.js';
import type { BlobReader } from '../storage.js';
import { API_VERSION_HEADER, type Endpoint, unsupported } from './common.js';

/** Blob reads: READ_RING buffers of READ_CHUNK_BYTES, reused for the whole response (measured on loopback). */
const READ_CHUNK_BYTES = 1024 * 1024;
const READ_RING = 3;

export const blobs: Endpoint = {
  path: /^(.+)\/blobs\/([^/]+)$/,
  parts: ['NAME_INVALID', 'DIGEST_INVALID'],
  async handle({ registry, authorize }, req, reply, [rawName, rawDigest]) {
    const name = assertName(rawName);
    const digest = parseDigest(rawDigest);
    if (req.method === 'GET' || req.method === 'HEAD') {
      await authorize(req, 'repository', name, ['pull']);
      return sendBlob(req, reply, registry, name, digest);
    }
    if (req.method === 'DELETE') {
      await authorize(req, 'repository', name, ['delete']);
      await registry.deleteBlob(name, digest);
      return reply.code(202).header('content-length', '0').send();
    }
    throw unsupported(req.method);
  },
};

/** A single `Range: bytes=…` request (RFC 9110 §14.1.2); undefined means "serve the whole blob". */
export function parseRange(
  value: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!value) return undefined;
  const m = value.trim().match(/^bytes=(\d*)-(\d*)$/);
  // Multiple ranges and syntax this server does not recognize are ignored, as RFC 9110 §14.2 allows.
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * Copies bytes [start, end] of a blob to the response through a ring of reused buffers: several reads are in
 * flight on the thread pool while the socket takes the previous chunk, and no per-chunk allocation (or
 * page-faulting of fresh memory) happens. A buffer is refilled only after the socket has taken its previous
 * contents (the write callback), so a slow client holds at most READ_RING × READ_CHUNK_BYTES of memory.
 */
async function pump(blob: BlobReader, res: FastifyReply['raw'], start: number, end: number): Promise<void> {
  const ring = Array.from({ length: READ_RING }, () => Buffer.allocUnsafeSlow(READ_CHUNK_BYTES));
  const reads: { done: Promise<{ bytesRead: number }>; buffer: Buffer; length: number }[] = [];
  let next = start;
  let slot = 0;
  const issue = () => {
    const buffer = ring[slot++ % READ_RING];
    const length = Math.min(READ_CHUNK_BYTES, end - next + 1);
    reads.push({ done: blob.read(buffer, 0, length, next), buffer, length });
    next += length;
  };
  // One buffer stays free for the write in flight.
  while (reads.length < READ_RING - 1 && next <= end) issue();
  let written: Promise<void> = Promise.resolve();
  try {
    while (reads.length > 0) {
      const read = reads.shift()!;
      const { bytesRead } = await read.done;
      if (bytesRead !== read.length) throw new Error('blob file shorter than expected');
      await written;
      if (res.destroyed) throw new Error('client closed the connection');
      const chunk = read.buffer.subarray(0, bytesRead);
      written = new Promise((resolve, reject) => res.write(chunk, (err) => (err ? reject(err) : resolve())));
      // The write may fail (client hung up) while we wait on the next read; mark the rejection handled now so it
      // is not an unhandled rejection (fatal in Node), and still surface it at the `await written` above.
      written.catch(() => {});
      // The buffer just freed by the finished write is the next one in the ring.
      if (next <= end) issue();
    }
    await written;
  } finally {
    // Reads still in flight must settle before the caller closes the blob.
    await Promise.allSettled(reads.map((r) => r.done));
  }
  await new Promise<void>((resolve) => res.end(resolve));
}

/** GET/HEAD of a blob with Range support. */
async function sendBlob(
  req: FastifyRequest,
  reply: FastifyReply,
  registry: Registry,
  name: string,
  digest: ParsedDigest,
): Promise<void> {
  const blob = await registry.openBlob(name, digest);
  // The blob is closed on every way out, a refused Range header included.
  try {
    const headers: Record<string, string> = {
      ...API_VERSION_HEADER,
      'content-type': 'application/octet-stream',
      'docker-content-digest': digest.digest,
      etag: `"${digest.digest}"`,
      'accept-ranges': 'bytes',
      // Content-addressed: the bytes behind this URL never change.
      'cache-control': 'max-age=31536000',
    };
    const range = req.method === 'GET' ? parseRange(req.headers.range, blob.size) : undefined;
    if (range === 'unsatisfiable') {
      reply.code(416).header('content-range', `bytes */${blob.size}`);
      throw new RegistryError('BLOB_UNKNOWN', 'requested range not satisfiable', { size: blob.size }, 416);
    }
    const res = reply.raw;
    reply.hijack();
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...headers, 'content-length': String(blob.size) }).end();
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? blob.size - 1;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${blob.size}`;
    res.writeHead(range ? 206 : 200, { ...headers, 'content-length': String(end - start + 1) });
    if (blob.size === 0) {
      res.end();
      return;
    }
    try {
      await pump(blob, res, start, end);
    } catch {
      // The client went away mid-download (or the file vanished under gc): drop the connection so the short body
      // is seen as an error, never as a complete blob.
      res.destroy();
    }
  } finally {
    await blob.close().catch(() => {});
  }
}
