// A small HTTP/1.1 client over node:http and node:https for the CLI's outgoing requests (registries, CA, log,
// token and trust-root servers). Node's global fetch would do, but loading it (undici's bundle, web streams,
// the llhttp wasm) costs more CPU than a whole `sigil verify`; node:http is already part of the runtime.
// It keeps the parts of fetch the callers rely on: redirects followed as RFC 9110 §15.4 says (303, and 301/302
// after a POST, become a GET; 307/308 resend the body), Authorization dropped when a redirect changes origin
// (Fetch standard "HTTP-redirect fetch" step 13), content-encoding decoded, one keep-alive connection pool per
// process, a timeout or AbortSignal covering the whole exchange including the body, and bodies as Node streams.
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';

export type RequestBody = string | Uint8Array | Readable;

export interface RequestOptions {
  method?: string;
  /** Header names in any case; a `content-length` given with a stream body is sent as is (else chunked). */
  headers?: Record<string, string>;
  body?: RequestBody;
  /** 'follow' (the default, as fetch) or 'manual': hand back the 3xx response itself. */
  redirect?: 'follow' | 'manual';
  /** Fails the request, and a body still being read, after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Could not connect, the connection broke, timed out or was aborted, or too many redirects. */
export class HttpRequestError extends Error {
  /** The system error code when there is one (ECONNREFUSED, ECONNRESET, ENOTFOUND …), ETIMEDOUT, ABORT_ERR. */
  readonly code: string;
  /** The URL asked for, when known: what the CLI names when it explains the failure. */
  url?: string;
  constructor(message: string, code: string, options?: { cause?: unknown; url?: string }) {
    super(message, options);
    this.name = 'HttpRequestError';
    this.code = code;
    this.url = options?.url;
  }
}

export interface ResponseHeaders {
  /** The header's value (repeated headers joined with ", "), or null, as fetch's Headers.get. */
  get(name: string): string | null;
}

/** fetch allows 20; registries and token servers use one or two (blob GET → storage). */
export const MAX_REDIRECTS = 10;
/** An unread body up to this size is read to its end so that its connection can be reused; larger ones close it. */
const DRAIN_LIMIT = 64 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers describing a request body, dropped when a redirect turns the request into a bodiless GET. */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'transfer-encoding',
];
/** Headers that must not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

// One pool per scheme for the whole process: a CLI run talks to one registry and a few services many times.
// Idle sockets are unref'd by the agent, so they never keep the process alive.
const httpAgent = new HttpAgent({ keepAlive: true });
let https: Promise<{ agent: HttpsAgent; request: typeof httpRequest }> | undefined;

/** node:https (and with it tls) is loaded only when a URL needs it: loopback stacks speak plain HTTP. */
function httpsModule(): Promise<{ agent: HttpsAgent; request: typeof httpRequest }> {
  https ??= import('node:https').then((m) => ({
    agent: new m.Agent({ keepAlive: true }),
    request: m.request as unknown as typeof httpRequest,
  }));
  return https;
}

export class HttpResponse {
  readonly status: number;
  readonly ok: boolean;
  /** The URL that answered (after any redirects). */
  readonly url: string;
  readonly headers: ResponseHeaders;
  /** The (decoded) body; read it, or call discard(), so that the connection is released. */
  readonly body: Readable;

  constructor(
    url: URL,
    private readonly message: IncomingMessage,
    body: Readable,
  ) {
    this.status = message.statusCode ?? 0;
    this.ok = this.status >= 200 && this.status < 300;
    this.url = url.toString();
    this.headers = new HeaderView(message.headers);
    this.body = body;
  }

  async buffer(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.body) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  async text(): Promise<string> {
    return (await this.buffer()).toString('utf8');
  }

  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  /** Releases the connection without reading the body: a small rest is drained (keeping it alive), else closed. */
  discard(): void {
    if (this.body.readableEnded || this.body.destroyed) return;
    const declared = Number(this.message.headers['content-length']);
    if (this.body === this.message && Number.isFinite(declared) && declared <= DRAIN_LIMIT) {
      this.message.on('error', () => {});
      this.message.resume();
    } else {
      this.body.destroy();
      this.message.destroy();
    }
  }
}

class HeaderView implements ResponseHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : v;
  }
}

/**
 * Sends one request, following redirects unless told not to. Resolves with the response for any status;
 * rejects with an HttpRequestError when no response came (or when the redirects run out).
 */
export async function request(url: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
  let current = new URL(url);
  let method = (options.method ?? 'GET').toUpperCase();
  let body = options.body;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) headers[k.toLowerCase()] = v;
  const signal = combinedSignal(options);
  // `sigil -d` (cosign's --verbose): one line a request and its answer on stderr, never a header's value.
  const debug = process.env.SIGIL_DEBUG ? (line: string) => process.stderr.write(`${line}\n`) : undefined;
  for (let hop = 0; ; hop++) {
    debug?.(`> ${method} ${current.origin}${current.pathname}`);
    const res = await send(current, method, headers, body, signal, options.timeoutMs).catch((err) => {
      // Node documents this race (http "agent.keepAlive"): the server may close an idle connection just as we
      // reuse it. The request never reached it, so sending it again is safe when the body can be sent again.
      const e = err as HttpRequestError & { reusedSocket?: boolean };
      if (e.reusedSocket && e.code === 'ECONNRESET' && !(body instanceof Readable))
        return send(current, method, headers, body, signal, options.timeoutMs);
      throw err;
    });
    debug?.(`< ${res.response.status} ${method} ${current.origin}${current.pathname}`);
    const location = res.message.headers.location;
    if (options.redirect === 'manual' || !REDIRECT_STATUSES.has(res.response.status) || !location) {
      return res.response;
    }
    res.response.discard();
    if (hop >= MAX_REDIRECTS) {
      throw new HttpRequestError(
        `more than ${MAX_REDIRECTS} redirects from ${url}`,
        'ERR_TOO_MANY_REDIRECTS',
      );
    }
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new HttpRequestError(`${current} redirected to an invalid URL "${location}"`, 'ERR_BAD_REDIRECT');
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new HttpRequestError(`${current} redirected to ${next.protocol} URL ${next}`, 'ERR_BAD_REDIRECT');
    }
    const status = res.response.status;
    if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      for (const h of BODY_HEADERS) delete headers[h];
    } else if (body instanceof Readable) {
      // fetch refuses this too: a stream that has been sent cannot be sent again.
      throw new HttpRequestError(
        `${current} answered ${status} to ${next}, and a streamed request body cannot be sent twice`,
        'ERR_BAD_REDIRECT',
      );
    }
    if (next.origin !== current.origin) for (const h of CREDENTIAL_HEADERS) delete headers[h];
    current = next;
  }
}

function combinedSignal(options: RequestOptions): AbortSignal | undefined {
  const timeout = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
  if (timeout && options.signal) return AbortSignal.any([timeout, options.signal]);
  return timeout ?? options.signal;
}

function abortError(signal: AbortSignal, url: URL, timeoutMs: number | undefined): HttpRequestError {
  const reason = signal.reason as { name?: string } | undefined;
  return reason?.name === 'TimeoutError'
    ? new HttpRequestError(`${url.origin} did not answer within ${timeoutMs} ms`, 'ETIMEDOUT', {
        url: url.toString(),
        cause: reason,
      })
    : new HttpRequestError(`request to ${url.origin} aborted`, 'ABORT_ERR', { cause: reason });
}

interface Sent {
  message: IncomingMessage;
  response: HttpResponse;
}

/** One exchange (request() sends it again when a kept-alive socket turns out to have been closed meanwhile). */
async function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: RequestBody | undefined,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): Promise<Sent> {
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') {
    throw new HttpRequestError(`unsupported URL scheme ${url.protocol} in ${url}`, 'ERR_INVALID_URL');
  }
  const { agent, request: open } = secure ? await httpsModule() : { agent: httpAgent, request: httpRequest };
  if (signal?.aborted) throw abortError(signal, url, timeoutMs);
  return new Promise<Sent>((resolve, reject) => {
    let message: IncomingMessage | undefined;
    let decoded: Readable | undefined;
    const req = open(url, { method, headers, agent });
    const onAbort = () => {
      const err = abortError(signal as AbortSignal, url, timeoutMs);
      if (decoded && decoded !== message) decoded.destroy(err);
      message?.destroy(err);
      req.destroy(err);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const release = () => signal?.removeEventListener('abort', onAbort);
    req.on('error', (err: Error & { code?: string }) => {
      if (message) return; // after the response, failures surface on its body stream
      release();
      if (body instanceof Readable) body.destroy();
      if (err instanceof HttpRequestError) return reject(err);
      const wrapped = new HttpRequestError(err.message, err.code ?? 'ERR_HTTP', {
        cause: err,
        url: url.toString(),
      });
      reject(Object.assign(wrapped, { reusedSocket: req.reusedSocket }));
    });
    req.on('response', (res) => {
      message = res;
      decoded = decode(res);
      decoded.once('end', release);
      decoded.once('close', release);
      // A 401 may come before a streamed body is fully sent; the body keeps flowing (as with fetch) so that the
      // request completes and its socket is released rather than left half-written.
      resolve({ message: res, response: new HttpResponse(url, res, decoded) });
    });
    if (body === undefined) req.end();
    else if (body instanceof Readable) {
      body.once('error', (err) => req.destroy(err));
      body.pipe(req);
    } else req.end(body);
  });
}

/** The body with any content-encoding undone, as fetch does (we never ask for one, but servers may send it). */
function decode(res: IncomingMessage): Readable {
  const encoding = (res.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate' && encoding !== 'br') return res;
  // node:zlib is required lazily: most responses are not encoded.
  const zlib = lazyZlib();
  const decoder =
    encoding === 'br'
      ? zlib.createBrotliDecompress()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : zlib.createGunzip();
  res.on('error', (err) => decoder.destroy(err));
  decoder.on('close', () => {
    if (!res.readableEnded) res.destroy();
  });
  return res.pipe(decoder);
}

function lazyZlib(): typeof import('node:zlib') {
  return process.getBuiltinModule('node:zlib'); // cached by Node after the first call
}
