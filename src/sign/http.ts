// The small JSON-over-HTTP helper the service clients (CA, log, OIDC) share: a timeout on every request, and an
// error that carries the service's own JSON message (sigil and Sigstore services answer {"message": ...}).
// Requests go through src/http (node:http), not fetch: loading fetch costs a CLI run more than signing does.
import { type HttpResponse, type ResponseHeaders, request } from '../net/index.js';
import { SignError, type SignErrorCode } from './errors.js';

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpOptions {
  timeoutMs?: number;
}

export interface JsonResponse<T> {
  status: number;
  headers: ResponseHeaders;
  body: T;
}

/** The message a service put in its error body, or the body's first 300 characters. */
export function serviceMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (typeof j?.message === 'string') return j.message;
    if (typeof j?.error === 'string') return j.error;
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 300).trim();
}

export async function requestJson<T>(
  code: SignErrorCode,
  what: string,
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; ok?: number[] },
  options: HttpOptions = {},
): Promise<JsonResponse<T>> {
  let res: HttpResponse;
  let text: string;
  try {
    res = await request(url, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        accept: 'application/json',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    text = await res.text();
  } catch (err) {
    throw new SignError(code, `${what}: cannot reach ${url} (${(err as Error).message})`, { cause: err });
  }
  const accepted = init.ok ?? [];
  if (!res.ok && !accepted.includes(res.status)) {
    throw new SignError(code, `${what}: ${url} answered ${res.status}: ${serviceMessage(text)}`);
  }
  let body: T;
  try {
    body = (text === '' ? undefined : JSON.parse(text)) as T;
  } catch {
    throw new SignError(code, `${what}: ${url} answered ${res.status} with a body that is not JSON`);
  }
  return { status: res.status, headers: res.headers, body };
}

/** `base` without trailing slashes, then `path`. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}
