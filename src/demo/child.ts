// Running the real `sigil` command as child processes, the way a user at a shell would: each step's output is
// echoed as it arrives (stdout and stderr, in arrival order) and kept for the parsers in walkthrough.ts; the
// long-running `sigil up` is started in the background and stopped with SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { ENDPOINTS_FILE, type Endpoints } from '../server/index.js';

/** How to start the CLI: this Node binary and the package's bin/sigil.js. */
export interface Cli {
  node: string;
  script: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Both streams in the order their chunks arrived, as a terminal would have shown them. */
  output: string;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where output is echoed as it arrives. */
  echo: Writable;
  timeoutMs: number;
}

export function runSigil(cli: Cli, args: string[], o: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cli.node, [cli.script, ...args], {
      cwd: o.cwd,
      env: o.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      output += s;
      o.echo.write(s);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      output += s;
      o.echo.write(s);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output });
    });
  });
}

/** A `sigil up` child process and what it wrote to DIR/endpoints.json. */
export interface StackProcess {
  child: ChildProcess;
  endpoints: Endpoints;
  /** Everything it printed up to now. */
  output(): string;
  /** SIGTERM, then its exit code (SIGKILL after the timeout). */
  stop(timeoutMs?: number): Promise<number | null>;
}

const READY_LINE = /^sigil is up at (\S+)$/m;

/**
 * Starts `sigil up ARGS` and resolves once it has printed its summary and /healthz answers 200. Output up to then
 * is echoed; later output (warnings) is echoed with a `[sigil up]` prefix so it stands apart from the steps.
 */
export function startStackProcess(
  cli: Cli,
  args: string[],
  o: RunOptions & { dataDir: string },
): Promise<StackProcess> {
  const child = spawn(cli.node, [cli.script, 'up', ...args], {
    cwd: o.cwd,
    env: o.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let all = '';
  let ready = false;
  const onData = (s: string) => {
    all += s;
    if (ready)
      o.echo.write(
        s
          .split(/(?<=\n)/)
          .map((l) => `[sigil up] ${l}`)
          .join(''),
      );
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

  const stop = async (timeoutMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  return new Promise<StackProcess>((resolve, reject) => {
    const deadline = setTimeout(() => {
      void stop(1000);
      reject(new Error(`sigil up did not become ready within ${o.timeoutMs} ms:\n${all}`));
    }, o.timeoutMs);
    void exited.then((code) => {
      clearTimeout(deadline);
      if (!ready) reject(new Error(`sigil up exited (code ${code}) before it was ready:\n${all}`));
    });
    const poll = async () => {
      if (ready || child.exitCode !== null) return;
      const url = READY_LINE.exec(all)?.[1];
      // The summary ends with the exports; REGISTRY_AUTH_FILE is the last one (server/stack.ts).
      if (url && /REGISTRY_AUTH_FILE=.*\n/.test(all)) {
        const health = await fetch(`${url}/healthz`).catch(() => undefined);
        if (health?.status === 200) {
          const endpoints = JSON.parse(await readFile(join(o.dataDir, ENDPOINTS_FILE), 'utf8')) as Endpoints;
          ready = true;
          clearTimeout(deadline);
          o.echo.write(all);
          resolve({ child, endpoints, output: () => all, stop });
          return;
        }
      }
      setTimeout(() => void poll().catch(reject), 50);
    };
    void poll().catch(reject);
  });
}
