// Typed errors of the OCI client: a code a caller can branch on, the HTTP status when there was one, and a
// message that says what was asked for and what the registry answered (its `errors[].code/message` body).

export type OciErrorCode =
  | 'BAD_REFERENCE' // the image reference does not parse
  | 'NOT_FOUND' // 404 for a manifest, blob, tag or repository
  | 'UNAUTHORIZED' // 401 after trying the credentials we have (or none)
  | 'DENIED' // 403
  | 'DIGEST_MISMATCH' // content does not hash to the digest it was asked or served by
  | 'TOO_LARGE' // a manifest or index above the client's limit
  | 'BAD_RESPONSE' // the registry answered something the spec does not allow (missing Location, bad JSON …)
  | 'REGISTRY_ERROR' // any other non-success status
  | 'NETWORK'; // could not connect, or the connection failed mid-way

export class OciError extends Error {
  readonly code: OciErrorCode;
  readonly status?: number;
  constructor(code: OciErrorCode, message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OciError';
    this.code = code;
    this.status = status;
  }
}

/** Summarises a distribution-spec error body (`{"errors":[{"code","message","detail"}]}`) for an error message. */
export function describeErrorBody(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return '';
  try {
    const body = JSON.parse(trimmed) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      return body.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed;
}

/** Maps a failed response to an OciError; `what` names the thing asked for, e.g. `manifest repo:tag`. */
export function errorForStatus(status: number, what: string, bodyText: string): OciError {
  const detail = describeErrorBody(bodyText);
  const suffix = detail ? ` (registry said: ${detail})` : '';
  switch (status) {
    case 401:
      return new OciError('UNAUTHORIZED', `${what}: 401 unauthorized${suffix}`, status);
    case 403:
      return new OciError('DENIED', `${what}: 403 denied${suffix}`, status);
    case 404:
      return new OciError('NOT_FOUND', `${what}: not found (404)${suffix}`, status);
    default:
      return new OciError('REGISTRY_ERROR', `${what}: HTTP ${status}${suffix}`, status);
  }
}
