// `sigil demo`: the whole keyless flow on a fresh machine, as a transcript. It starts `sigil up` on a fresh data
// dir and a free port, then runs each step of walkthrough.ts as a `sigil` child process with the environment
// `sigil up` exports (plus, for signing, the two variables GitHub Actions gives a job), printing the command and
// then its output. Nothing is shortcut through the library: what it shows is what a user would type and see.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { type Cli, type RunResult, runSigil, type StackProcess, startStackProcess } from './child.js';
import {
  commandLine,
  DEMO_REPOSITORY,
  parseBuiltImage,
  parseLogIndex,
  parseRunnerEnv,
  preparationSteps,
  type Step,
  shellWord,
  signingSteps,
  type WalkthroughInput,
} from './walkthrough.js';

export interface DemoOptions {
  cli: Cli;
  /** The package root: examples/ lives here, and commands run from here. */
  root: string;
  /** Data dir for `sigil up`; a fresh temp dir (removed afterwards unless kept) when absent. */
  dataDir?: string;
  port?: number;
  repository?: string;
  /** Leave `sigil up` running after the walkthrough (until SIGINT/SIGTERM). */
  keepRunning?: boolean;
  out: Writable;
  /** Per-step limit. */
  stepTimeoutMs?: number;
}

export interface DemoResult {
  ok: boolean;
  dataDir: string;
  image?: string;
  logIndex?: number;
  /** Set when the demo failed: which step and why. */
  failure?: string;
  stack?: StackProcess;
}

/** Variables that would change what the steps do if the caller's shell happened to have them set. */
const AMBIENT = /^(SIGIL_|SIGSTORE_|ACTIONS_ID_TOKEN_|COSIGN_|REGISTRY_AUTH_FILE$|DOCKER_CONFIG$)/;

function cleanEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(base).filter(([k]) => !AMBIENT.test(k)));
}

async function gitCommit(root: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', 'HEAD'], { cwd: root });
    const sha = stdout.trim();
    return /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

/** Paths are shown relative to the working directory when they are inside it, as a user would type them. */
function display(root: string, path: string): string {
  const rel = relative(root, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const out = o.out;
  const timeoutMs = o.stepTimeoutMs ?? 120_000;
  const fresh = o.dataDir === undefined;
  const dataDir = resolve(o.dataDir ?? (await mkdtemp(join(tmpdir(), 'sigil-demo-'))));
  const repository = o.repository ?? DEMO_REPOSITORY;
  const result: DemoResult = { ok: false, dataDir };
  let n = 0;
  const heading = (title: string) => out.write(`\n### ${++n}. ${title}\n`);
  const shown = (args: string[]) =>
    commandLine(args.map((a) => (a.startsWith('/') ? display(o.root, a) : a)));
  let stack: StackProcess | undefined;
  try {
    heading('Start sigil: CA, CT log, transparency log, registry and CI identity issuer, on one port');
    const upArgs = ['--data-dir', dataDir, '--port', String(o.port ?? 0), '--log-level', 'warn'];
    out.write(`$ ${shown(['up', ...upArgs])} &\n`);
    stack = await startStackProcess(o.cli, upArgs, {
      env: cleanEnv(process.env),
      cwd: o.root,
      echo: out,
      timeoutMs,
      dataDir,
    });
    const e = stack.endpoints;
    out.write(`$ . ${shellWord(display(o.root, e.envFile))}\n`);
    const env = { ...cleanEnv(process.env), ...e.env };

    const run = async (step: Step): Promise<RunResult> => {
      heading(step.title);
      for (const [k, v] of Object.entries(step.env ?? {})) out.write(`$ export ${k}=${shellWord(v)}\n`);
      out.write(`$ ${shown(step.args)}\n`);
      const r = await runSigil(o.cli, step.args, {
        env: { ...env, ...step.env },
        cwd: o.root,
        echo: out,
        timeoutMs,
      });
      const failed = r.code !== 0;
      if (failed && step.expectFailure) out.write(`(exit status ${r.code}: the moved tag is rejected)\n`);
      if (failed !== Boolean(step.expectFailure)) {
        throw new Error(
          step.expectFailure
            ? `\`${commandLine(step.args)}\` succeeded but must fail`
            : `\`${commandLine(step.args)}\` failed (exit ${r.code ?? r.signal})`,
        );
      }
      return r;
    };

    const w: WalkthroughInput = {
      dataDir,
      url: e.url,
      registry: e.registry,
      exampleDir: join(o.root, 'examples', 'django-keyless'),
      impostorDir: join(o.root, 'examples', 'django-keyless', 'hello'),
      repository,
      commit: (await gitCommit(o.root)) ?? '0'.repeat(40),
    };
    const [build, runner] = preparationSteps(w);
    result.image = parseBuiltImage((await run(build)).stdout);
    const runnerEnv = parseRunnerEnv((await run(runner)).stdout);
    const steps = signingSteps(w, result.image, runnerEnv, () => result.logIndex!);
    result.logIndex = parseLogIndex((await run(steps.sign)).output);
    for (const step of steps.rest()) await run(step);
    result.ok = true;
    out.write(
      `\nDone: ${result.image} was signed by ${repository}'s workflow, verified, and found in the log at index ${result.logIndex}.\n`,
    );
  } catch (err) {
    result.failure = (err as Error).message;
    out.write(`\nDEMO FAILED: ${result.failure}\n`);
  }
  if (stack && o.keepRunning && result.ok) {
    out.write(
      `\nsigil up keeps running (pid ${stack.child.pid}); in another shell:  . ${shellWord(stack.endpoints.envFile)}\n` +
        'Stop it with Ctrl-C.\n',
    );
    result.stack = stack;
    return result;
  }
  if (stack) {
    heading('Stop sigil up (SIGTERM: requests finish, stores flush, exit 0)');
    out.write(`$ kill -TERM ${stack.child.pid}\n`);
    const code = await stack.stop();
    out.write(`sigil up exited with status ${code}\n`);
    if (code !== 0 && result.ok) {
      result.ok = false;
      result.failure = `sigil up exited with status ${code} on SIGTERM`;
    }
  }
  if (fresh && result.ok) await rm(dataDir, { recursive: true, force: true });
  else out.write(`Data dir kept: ${dataDir}\n`);
  return result;
}
