// Shared helpers for the registry tests: a real registry server on loopback in a temporary data dir, and small
// wrappers for the pushes most tests need. Nothing is mocked; every call is real HTTP.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryServiceOptions } from '../../src/registry/index.js';
import {
  lateUrl,
  type RunningServer,
  registryService,
  type Service,
  startServer,
} from '../../src/server/index.js';
import { stackDatabase } from '../backend.js';

export interface TestRegistry {
  url: string;
  dataDir: string;
  server: RunningServer;
  stop(): Promise<void>;
}

export async function startRegistry(
  options: RegistryServiceOptions = { anonymousPush: true },
  dataDir?: string,
  extra: Service[] = [],
): Promise<TestRegistry> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'sigil-registry-')));
  await stackDatabase(dir);
  const url = lateUrl();
  const service = await registryService({ dataDir: dir, publicUrl: url.get }, options);
  const server = await startServer([...extra, service], { logLevel: 'silent', onUrl: url.set });
  return {
    url: server.url,
    dataDir: dir,
    server,
    async stop() {
      await server.close();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Monolithic POST+PUT push of a blob; returns its digest. */
export async function pushBlob(
  base: string,
  repo: string,
  data: Buffer,
  headers: Record<string, string> = {},
) {
  const digest = sha256(data);
  const post = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
  if (post.status !== 202) throw new Error(`POST upload: ${post.status} ${await post.text()}`);
  const location = new URL(post.headers.get('location')!, base);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: data,
    headers: { 'content-type': 'application/octet-stream', ...headers },
  });
  if (put.status !== 201) throw new Error(`PUT upload: ${put.status} ${await put.text()}`);
  return digest;
}

export const EMPTY_CONFIG = Buffer.from('{}');

/** Builds an OCI image manifest over already-pushed blobs. */
export function imageManifest(
  config: { digest: string; size: number; mediaType?: string },
  layers: { digest: string; size: number }[],
  extra: Record<string, unknown> = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: config.mediaType ?? 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
      ...extra,
    }),
  );
}

export async function putManifest(
  base: string,
  repo: string,
  ref: string,
  body: Buffer,
  mediaType = 'application/vnd.oci.image.manifest.v1+json',
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': mediaType, ...headers },
  });
}

/** Pushes a config blob, one layer and a manifest; returns the manifest's digest and bytes. */
export async function pushImage(
  base: string,
  repo: string,
  tag: string,
  layer = Buffer.from(`layer of ${repo}:${tag}`),
) {
  const configDigest = await pushBlob(base, repo, EMPTY_CONFIG);
  const layerDigest = await pushBlob(base, repo, layer);
  const manifest = imageManifest({ digest: configDigest, size: EMPTY_CONFIG.length }, [
    { digest: layerDigest, size: layer.length },
  ]);
  const res = await putManifest(base, repo, tag, manifest);
  if (res.status !== 201) throw new Error(`PUT manifest: ${res.status} ${await res.text()}`);
  return { digest: sha256(manifest), manifest, layerDigest, configDigest };
}

/** Files under a directory, recursively (to prove nothing half-written was left behind). */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath ?? entry.path, entry.name));
  }
  return out.sort();
}

export async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { errors: { code: string }[] };
  return body.errors[0].code;
}

/** A request with the path sent exactly as given (fetch would normalize `..` segments away). */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const allHeaders = body ? { ...headers, 'content-length': String(body.length) } : headers;
    const req = httpRequest({ host: hostname, port, method, path, headers: allHeaders }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends a request head promising `declared` body bytes, writes only `sent` of them, then drops the connection:
 * a client dying mid-upload.
 */
export function truncatedRequest(
  base: string,
  method: string,
  path: string,
  declared: number,
  sent: Buffer,
): Promise<void> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/octet-stream\r\n` +
          `Content-Length: ${declared}\r\n\r\n`,
      );
      socket.write(sent, () => setTimeout(() => socket.destroy(), 50));
    });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}

/** A JSON response body, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions index into arbitrary JSON bodies
export async function json(res: Response): Promise<any> {
  return res.json();
}

export interface StreamedExchange {
  /** 0 when no status line arrived. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Body bytes the client managed to write before it stopped or the connection failed. */
  sent: number;
  /** How the connection ended on the client's side: a clean close, or the socket error it saw. */
  ended: string;
}

/**
 * A client on a raw socket sending a large body (`total` bytes, with Content-Length or chunked) while reading the
 * answer, as docker or Go's net/http do: it writes until the body is done or a write fails, or, with `pauseAfter`,
 * stops after that many bytes and only waits (a slow client whose body never finishes). With `writeThenRead` it
 * reads nothing until it has written the whole body (simple clients do). Resolves when the connection closes,
 * with whatever response arrived: a refusal must reach a client still sending.
 */
export function streamingRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  o: { total: number; chunked?: boolean; pauseAfter?: number; writeThenRead?: boolean; timeoutMs?: number },
): Promise<StreamedExchange> {
  const { hostname, port } = new URL(base);
  const piece = Buffer.alloc(64 * 1024, 0x61);
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    let sent = 0;
    let ended = 'close';
    let stopped = false;
    const socket = connect(Number(port), hostname);
    const timer = setTimeout(() => {
      ended = 'timeout';
      socket.destroy();
    }, o.timeoutMs ?? 15_000);
    const framing = o.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(o.total) };
    const head = Object.entries({ host: `${hostname}:${port}`, ...headers, ...framing })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const write = () => {
      while (!stopped && !socket.destroyed) {
        const limit = Math.min(o.total, o.pauseAfter ?? o.total);
        if (sent >= limit) {
          if (sent >= o.total && o.chunked) socket.write('0\r\n\r\n');
          stopped = true;
          if (o.writeThenRead) socket.resume();
          return;
        }
        const chunk = piece.subarray(0, Math.min(piece.length, limit - sent));
        sent += chunk.length;
        const ok = socket.write(
          o.chunked
            ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
            : chunk,
        );
        if (!ok) {
          socket.once('drain', write);
          return;
        }
      }
    };
    socket.on('connect', () => {
      if (o.writeThenRead) socket.pause();
      socket.write(`${method} ${path} HTTP/1.1\r\n${head}\r\n`);
      write();
    });
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      ended = err.code ?? err.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      stopped = true;
      const text = Buffer.concat(received).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = (split < 0 ? text : text.slice(0, split)).split('\r\n');
      const status = Number(statusLine.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
      const hdrs = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      resolve({ status, headers: hdrs, body: split < 0 ? '' : text.slice(split + 4), sent, ended });
    });
  });
}
