// What the `sigil` command prints when a verb fails, and with which exit code. Node and OpenSSL describe failures
// for programmers ("ENOENT: no such file or directory, open 'x'", "error:1E08010C:DECODER routines::unsupported",
// "write EPROTO …wrong version number"); a user needs one line saying what went wrong and what to do. The verbs
// throw as they like; bin/sigil.js passes what reaches it through describeError and exitCodeOf.
// Exit codes are cosign's (cmd/cosign/errors/exit_codes.go): 10 no signatures, 11 no such tag, 1 for everything
// else, including signatures that do not verify (cosign v3 exits 1 there, not the 12 its docs list).

/** An error whose message is already written for the user, with the exit code to leave with. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** cosign's exit codes for image verification. */
export const EXIT = { IMAGE_WITHOUT_SIGNATURE: 10, NON_EXISTENT_TAG: 11 } as const;

type Coded = Error & { code?: string; path?: string; syscall?: string; url?: string; exitCode?: number };

/** The error and its causes, outermost first. */
function chain(err: unknown): Coded[] {
  const out: Coded[] = [];
  let e = err as Coded | undefined;
  while (e && typeof e === 'object' && out.length < 10) {
    out.push(e);
    e = (e as { cause?: unknown }).cause as Coded | undefined;
  }
  return out;
}

/** Where `sigil up` writes its endpoints, for the hint when a local stack does not answer. */
function endpointsFile(): string {
  return `${process.env.SIGIL_DATA_DIR || '.sigil'}/endpoints.json`;
}

function isLoopback(host: string): boolean {
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host.startsWith('127.') ||
    host === '[::1]' ||
    host === '::1'
  );
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists (remove it first)',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files',
};

/** One line for a failed connection to `url`, saying what to try. */
function networkLine(e: Coded, url: URL | undefined): string | undefined {
  const code = e.code ?? '';
  const where = url ? url.origin : 'the server';
  const local = url ? isLoopback(url.hostname) : false;
  const upHint = `is \`sigil up\` running? it writes its URL to ${endpointsFile()}`;
  if (code === 'ECONNREFUSED')
    return `cannot reach ${where}: nothing is listening there; ${local ? upHint : 'check the URL and that the service is up'}`;
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return `${where} closed the connection; check the URL (and http:// or https://), and that the service is up`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `cannot resolve ${url ? `${url.hostname} (${url.href})` : 'the host'}: check the host name in the URL and the network`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return `cannot reach ${where}: no route to the host; check the network`;
  if (code === 'ETIMEDOUT')
    return `${where} did not answer in time; check the URL and the network, or pass a longer --timeout`;
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/.test(e.message))
    return `${where} speaks plain HTTP, not TLS: use ${url ? `http://${url.host}` : 'an http:// URL'}`;
  if (code.startsWith('HPE_'))
    return `${where} did not answer in HTTP (a TLS port?): use ${url ? `https://${url.host}` : 'an https:// URL'}`;
  if (
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
  )
    return `${where}'s TLS certificate is not trusted here: add its CA to NODE_EXTRA_CA_CERTS`;
  if (code === 'CERT_HAS_EXPIRED') return `${where}'s TLS certificate has expired`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `${where}'s TLS certificate is for another host name: use the name it was issued for`;
  return undefined;
}

/** A reference without a registry host goes to Docker Hub, which may not be the registry the user meant. */
function hubHint(url: URL | undefined): string {
  return url && /(^|\.)docker\.io$/.test(url.hostname)
    ? ' (an image without a registry host is on Docker Hub, as with docker: write HOST:PORT/REPO for another registry)'
    : '';
}

/** The URL an error is about: the HTTP client's own record, else the first URL in a message up the chain. */
function urlOf(errors: Coded[]): URL | undefined {
  for (const e of [...errors].reverse()) {
    const text = e.url ?? e.message?.match(/https?:\/\/[^\s)'"]+/)?.[0];
    if (!text) continue;
    try {
      return new URL(text);
    } catch {
      // not a URL after all
    }
  }
  return undefined;
}

/** What the outermost message says before the raw part: "log: cannot reach …" keeps "log: ". */
function prefixOf(message: string): string {
  const m = message.match(/^([\w .-]{1,40}): (cannot reach|cannot fetch)/);
  return m ? `${m[1]}: ` : '';
}

/** The line to print for an error that reached the top of the CLI. */
export function describeError(err: unknown): string {
  const errors = chain(err);
  const top = errors[0];
  if (!top) return String(err);
  if (top instanceof CliError) return top.message;
  // A signature the log took but the registry refused: keep the entry index in the line, explain the refusal.
  const logIndex = (top as { logIndex?: unknown }).logIndex;
  if (typeof logIndex === 'number' && errors[1]) {
    const head = top.message.slice(0, top.message.indexOf(' failed: ') + ' failed: '.length);
    if (head.length > ' failed: '.length) return `${head}${describeError(errors[1])}`;
  }
  for (const e of errors) {
    const line = networkLine(e, urlOf(errors));
    if (
      line &&
      (e.syscall !== undefined ||
        e.name === 'HttpRequestError' ||
        e.code?.startsWith('HPE_') ||
        e.code === 'EPROTO')
    )
      return `${prefixOf(top.message)}${line}${hubHint(urlOf(errors))}`;
  }
  for (const e of errors) {
    const what = e.code ? FILE_ERRORS[e.code] : undefined;
    if (what && e.path) return `${e.path}: ${what}`;
  }
  const deepest = errors.find((e) => e.code && FILE_ERRORS[e.code] && !e.path);
  if (deepest) return `${FILE_ERRORS[deepest.code!]} (${top.message})`;
  // OpenSSL's decoder text says nothing a user can act on.
  if (/DECODER routines|error:[0-9A-F]{8}:/.test(top.message))
    return top.message.replace(
      /:?\s*error:[0-9A-F]{8}:[^\n]*/g,
      ': not a key or certificate in a format sigil reads (PEM)',
    );
  return top.message ?? String(err);
}

/** The exit code: a CliError's own, 1 otherwise. */
export function exitCodeOf(err: unknown): number {
  const code = (err as Coded | undefined)?.exitCode;
  return typeof code === 'number' && Number.isInteger(code) && code > 0 && code < 256 ? code : 1;
}
