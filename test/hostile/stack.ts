// Shared by the hostile-input corpus and the kill -9 test: a real `sigil up` child process (bin/sigil.js, port 0,
// a temp data dir), the credentials a client gets from it (a CI runner's token, the registry login), and a raw
// HTTP sender that never throws: a request that gets no answer (dropped connection, timeout) is reported as such,
// so a corpus can list every offending case in one assertion instead of stopping at the first.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  type Cli,
  parseRunnerEnv,
  runSigil,
  type StackProcess,
  startStackProcess,
} from '../../src/demo/index.js';
import { stackDatabase } from '../backend.js';
import { cleanEnv } from '../e2e/helpers.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI: Cli = { node: process.execPath, script: join(ROOT, 'bin', 'sigil.js') };
const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });

export interface Up {
  stack: StackProcess;
  dataDir: string;
  url: string;
  /** Starts `sigil up` again on the same data dir (after a kill), replacing `stack` and `url`. */
  restart(): Promise<void>;
  /** Runs `sigil ARGS` against this stack; throws with its output when it fails. */
  sigil(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * `sigil up --port 0` on a fresh data dir, or on `dataDir` (another frontend's: then left in place by stop()),
 * ready once /healthz answers 200.
 */
export async function startUp(o: { args?: string[]; dataDir?: string } = {}): Promise<Up> {
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'sigil-hostile-')));
  // The backend of the vitest project, unless the test chose a database itself.
  const database = o.args?.includes('--database') ? undefined : await stackDatabase(dataDir);
  const args = [...(database ? ['--database', database] : []), ...(o.args ?? [])];
  const start = () =>
    startStackProcess(CLI, ['--data-dir', dataDir, '--port', '0', '--log-level', 'warn', ...args], {
      env: cleanEnv(),
      cwd: ROOT,
      echo: quiet,
      timeoutMs: 60_000,
      dataDir,
    });
  const up: Up = {
    stack: await start(),
    dataDir,
    url: '',
    async restart() {
      up.stack = await start();
      up.url = up.stack.endpoints.url;
    },
    async sigil(args) {
      const r = await runSigil(CLI, args, {
        env: cleanEnv(up.stack.endpoints.env),
        cwd: ROOT,
        echo: quiet,
        timeoutMs: 60_000,
      });
      if (r.code !== 0) throw new Error(`sigil ${args.join(' ')} failed:\n${r.output}`);
      return r.stdout;
    },
    async stop() {
      await up.stack.stop();
      if (!o.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  up.url = up.stack.endpoints.url;
  return up;
}

export const REPOSITORY = 'acme/hostile';
export const WORKFLOW = '.github/workflows/release.yml';

/** Registers a CI runner for REPOSITORY with the stack's own issuer; returns its token request secret. */
export async function addRunner(up: Up, name = 'hostile'): Promise<string> {
  const out = await up.sigil([
    'oidc',
    'add-runner',
    '--name',
    name,
    '--repository',
    REPOSITORY,
    '--workflow',
    WORKFLOW,
    '--ref',
    'refs/heads/main',
    '--sha',
    'c0ffee'.repeat(7).slice(0, 40),
  ]);
  const secret = parseRunnerEnv(out).ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!secret) throw new Error(`no runner secret in:\n${out}`);
  return secret;
}

/** An identity token from the stack's issuer for the runner whose secret this is. */
export async function idToken(url: string, runnerSecret: string, localAddress?: string): Promise<string> {
  const r = await send(url, {
    method: 'GET',
    path: '/oidc/token?audience=sigstore',
    headers: { authorization: `bearer ${runnerSecret}` },
    localAddress,
  });
  if (r.status !== 200) throw new Error(`token: ${r.status} ${r.body}`);
  return JSON.parse(r.body).value as string;
}

/** The registry user `sigil up` created, as `user:password` (from the data dir's registry-auth.json). */
export async function registryCredentials(up: Up): Promise<string> {
  const file = JSON.parse(await readFile(join(up.dataDir, 'registry-auth.json'), 'utf8')) as {
    auths: Record<string, { auth: string }>;
  };
  return Buffer.from(Object.values(file.auths)[0].auth, 'base64').toString('utf8');
}

/** A registry bearer token for `scopes` (e.g. `repository:a/b:pull,push`), from the token endpoint. */
export async function registryToken(url: string, credentials: string, scopes: string[]): Promise<string> {
  const q = new URLSearchParams({ service: 'sigil-registry' });
  for (const s of scopes) q.append('scope', s);
  const r = await send(url, {
    method: 'GET',
    path: `/v2/token?${q}`,
    headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
  });
  if (r.status !== 200) throw new Error(`registry token: ${r.status} ${r.body}`);
  return JSON.parse(r.body).token as string;
}

export interface RawRequest {
  method: string;
  /** Sent exactly as given (no normalisation of `..`, no re-encoding). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Which loopback address the request comes from (127.0.0.0/8): per-client limits count per address. */
  localAddress?: string;
  timeoutMs?: number;
}

export interface RawAnswer {
  /** 0 when no answer arrived. */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Why no (complete) answer arrived: the socket error, or `timeout`. */
  error?: string;
}

/** One request on its own connection; never rejects. */
export function send(base: string, r: RawRequest): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const body = r.body === undefined ? undefined : Buffer.from(r.body);
    const headers: Record<string, string> = { ...r.headers };
    if (body && headers['transfer-encoding'] === undefined) headers['content-length'] = String(body.length);
    let settled = false;
    const done = (a: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    let req: ReturnType<typeof httpRequest>;
    try {
      req = httpRequest(
        {
          host: hostname,
          port,
          method: r.method,
          path: r.path,
          headers,
          agent: false,
          localAddress: r.localAddress,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            done({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', (err: NodeJS.ErrnoException) =>
            done({ status: 0, headers: {}, body: '', error: `response: ${err.code ?? err.message}` }),
          );
        },
      );
    } catch (err) {
      // The request could not even be written (a path or header node refuses to send): a bug in the case.
      resolve({ status: 0, headers: {}, body: '', error: `not sent: ${(err as Error).message}` });
      return;
    }
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: 0, headers: {}, body: '', error: 'timeout' });
    }, r.timeoutMs ?? 15_000);
    req.on('error', (err: NodeJS.ErrnoException) =>
      done({ status: 0, headers: {}, body: '', error: err.code ?? err.message }),
    );
    req.end(body);
  });
}

export interface Case extends RawRequest {
  name: string;
}

/**
 * The cases without exact repeats (two mutations can build the same request: an empty object and an object whose
 * only member is missing), so that each counted case is a distinct request; a repeated name gets a suffix.
 */
/** A POST case with a JSON body (or the text given, as it is) under a content type, JSON's by default. */
export function postCase(name: string, path: string, body: unknown, contentType = 'application/json'): Case {
  return {
    name,
    method: 'POST',
    path,
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

export function distinct(cases: Case[]): Case[] {
  const seen = new Set<string>();
  const names = new Map<string, number>();
  const out: Case[] = [];
  for (const c of cases) {
    const body = c.body === undefined ? null : Buffer.from(c.body).toString('base64');
    const key = JSON.stringify([c.method, c.path, c.headers ?? {}, body, c.localAddress ?? null]);
    if (seen.has(key)) continue;
    seen.add(key);
    const n = (names.get(c.name) ?? 0) + 1;
    names.set(c.name, n);
    out.push(n === 1 ? c : { ...c, name: `${c.name} #${n}` });
  }
  return out;
}

/** What is wrong with an answer, or undefined when it is acceptable. */
export type Judge = (c: Case, a: RawAnswer) => string | undefined;

/**
 * Sends every case (`concurrency` at a time, each on its own connection) and returns one line per offending
 * case: its name and what came back.
 */
export async function runCorpus(
  base: string,
  cases: Case[],
  judge: Judge,
  concurrency = 8,
): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const a = await send(base, c);
      const wrong = a.error ? `no answer (${a.error})` : judge(c, a);
      if (wrong) failures.push(`${c.name} [${c.method} ${c.path.slice(0, 100)}]: ${wrong}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failures;
}

/** A 4xx whose JSON body has a non-empty `message` (Rekor, Fulcio, the issuer) or `error_message` (CT). */
export const jsonMessage4xx: Judge = (_c, a) => {
  if (a.status < 400 || a.status >= 500) return `status ${a.status}: ${a.body.slice(0, 160)}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(a.body);
  } catch {
    return `status ${a.status}, body not JSON: ${a.body.slice(0, 160)}`;
  }
  const message = body?.message ?? body?.error_message;
  if (typeof message !== 'string' || message.trim() === '')
    return `status ${a.status}, no message: ${a.body.slice(0, 160)}`;
  return undefined;
};

/** A 4xx in the distribution-spec error format: {"errors":[{"code","message",...}]} (HEAD: the status only). */
export const registryError4xx: Judge = (c, a) => {
  if (a.status < 400 || a.status >= 500) return `status ${a.status}: ${a.body.slice(0, 160)}`;
  if (c.method === 'HEAD') return undefined;
  try {
    const e = JSON.parse(a.body)?.errors?.[0];
    if (typeof e?.code !== 'string' || typeof e?.message !== 'string' || e.message === '')
      return `status ${a.status}, not the spec's error format: ${a.body.slice(0, 160)}`;
  } catch {
    return `status ${a.status}, body not JSON: ${a.body.slice(0, 160)}`;
  }
  return undefined;
};

/**
 * Spreads cases over loopback client addresses, `perAddress` each: the token and signing endpoints limit each
 * client (429 past a burst), and a corpus aimed at their input checks must not be measuring the limiter instead.
 */
export function spreadClients(cases: Case[], perAddress: number, firstOctet = 10): Case[] {
  return cases.map((c, i) => ({
    ...c,
    localAddress:
      c.localAddress ??
      `127.0.${firstOctet + Math.floor(i / perAddress / 250)}.${2 + (Math.floor(i / perAddress) % 250)}`,
  }));
}
