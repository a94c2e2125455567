// The README's sample outputs, tied to real runs. Each ```text block shows the output of the ```sh block before it
// (the first, `sigil up`'s banner). One bash session runs the blocks with a marker line between them, so that its
// output splits per block; `render` turns a block's output into what the README shows (the stack on port 3000 of a
// checkout in /tmp/sigil, long base64 values cut short), and `normalise` replaces what differs on every run (keys,
// signatures, times, log hashes) with placeholders. test/e2e/readme.test.ts requires
// normalise(render(output)) = normalise(README sample) for every sample; run as a program (through
// scripts/readme-samples.mjs) this file rewrites the samples from a fresh run.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, symlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bash, cleanEnv, shellBlocks, stripComment } from './helpers.js';

/** A fenced block of the README: its info string and where its body lies in the text. */
export interface Fence {
  lang: string;
  body: string;
  start: number;
  end: number;
}

export function fences(markdown: string): Fence[] {
  const re = /^```([\w-]*)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  return [...markdown.matchAll(re)].map((m) => {
    const start = (m.index ?? 0) + m[0].indexOf('\n') + 1;
    return { lang: m[1], body: m[2], start, end: start + m[2].length };
  });
}

/** Each ```text block with the index (among the ```sh blocks, as shellBlocks counts them) of the one before it. */
export function samples(markdown: string): { sh: number; text: Fence }[] {
  let sh = -1;
  const out: { sh: number; text: Fence }[] = [];
  for (const f of fences(markdown)) {
    if (f.lang === 'sh') sh++;
    else if (f.lang === 'text' && sh >= 0) out.push({ sh, text: f });
  }
  return out;
}

const MARK = '@@sigil-readme-block';

/**
 * One bash script running the ```sh blocks from index `from` on, each preceded by a marker line. stderr joins
 * stdout in one pipe, so that lines come in the order the commands wrote them, as on a terminal.
 */
export function markedScript(blocks: string[], from: number): string {
  const steps = blocks.slice(from).map((b, i) => `printf '\\n${MARK} %d@@\\n' ${from + i}\n${b}`);
  return ['set -euo pipefail', 'exec 2>&1', ...steps].join('\n');
}

/** The output of each block, by its index, from the output of markedScript. */
export function splitOutput(output: string): Map<number, string> {
  const parts = output.split(new RegExp(`\\n?${MARK} (\\d+)@@\\n`));
  const out = new Map<number, string>();
  for (let i = 1; i + 1 < parts.length; i += 2) out.set(Number(parts[i]), parts[i + 1]);
  return out;
}

/** `sigil up`'s summary from its output: from "sigil is up at" through the export lines (request logs follow). */
export function upBanner(output: string): string {
  const lines = output.split('\n');
  const first = lines.findIndex((l) => l.startsWith('sigil is up at '));
  if (first < 0) return '';
  let last = lines.findIndex((l, i) => i > first && l.startsWith('  export '));
  while (last >= 0 && lines[last + 1]?.startsWith('  export ')) last++;
  return lines.slice(first, last + 1).join('\n');
}

/** Where this run's stack and checkout were; the README shows the defaults a reader gets. */
export interface RunPlace {
  port: number;
  checkout: string;
}

/**
 * A block's output as the README shows it: the stack at 127.0.0.1:3000 (`sigil up`'s default), the checkout at
 * /tmp/sigil, base64 runs of 100 characters or more (a certificate in a log entry) cut to their first 48.
 */
export function render(output: string, place: RunPlace): string {
  const text = output
    .replaceAll(`127.0.0.1:${place.port}`, '127.0.0.1:3000')
    .replaceAll(place.checkout, '/tmp/sigil')
    .replace(/[A-Za-z0-9+/]{100,}={0,2}/g, (b64) => `${b64.slice(0, 48)}…`);
  return tidy(text);
}

/** Trailing spaces and blank lines never matter to a reader. */
function tidy(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/^\n+|\n+$/g, '');
}

/**
 * The sample with what differs on every run replaced by placeholders: the log's and CT's keys and tree ids, times,
 * signatures and certificates, entry UUIDs and Merkle hashes (bare hex: an image digest is always `sha256:hex` and
 * stays, since a fresh clone must build the same image), the runner's secret. What is left must match exactly.
 */
export function normalise(text: string): string {
  return tidy(text)
    .replace(/sigil_runner_[A-Za-z0-9_-]+/g, 'sigil_runner_<secret>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/(?<![\w:])[0-9a-f]{64}(?:[0-9a-f]{16})?(?!\w)/g, '<hash>')
    .replace(/[A-Za-z0-9+/]{40,}={0,2}…?/g, (b64) => (/^[0-9a-f]+$/.test(b64) ? b64 : '<base64>'))
    .replace(/^(\S+) - \d+$/gm, '$1 - <tree-id>');
}

/** The README with each sample replaced by its block's rendered output (samples whose block has none stay). */
export function withSamples(markdown: string, outputs: Map<number, string>): string {
  let out = '';
  let at = 0;
  for (const { sh, text } of samples(markdown)) {
    const rendered = outputs.get(sh);
    if (rendered === undefined) continue;
    out += `${markdown.slice(at, text.start)}${rendered}\n`;
    at = text.end;
  }
  return out + markdown.slice(at);
}

/** Every sample's block output from one run, rendered: block 0's is `sigil up`'s banner. */
export function renderedOutputs(upOutput: string, runOutput: string, place: RunPlace): Map<number, string> {
  const outputs = new Map<number, string>([[0, upBanner(upOutput)], ...splitOutput(runOutput)]);
  return new Map([...outputs].map(([i, o]) => [i, render(o, place)]));
}

/** `sigil up` started as the README's first block starts it, in the checkout, on the port SIGIL_PORT says. */
export interface RunningUp {
  child: ChildProcess;
  output: () => string;
  endpoints: { url: string; registry: string; pid: number };
  stop: () => Promise<void>;
}

export async function startUp(checkout: string, start: string, env: NodeJS.ProcessEnv): Promise<RunningUp> {
  const child = spawn('bash', ['-c', `exec ${start}`], {
    cwd: checkout,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const s of [child.stdout, child.stderr])
    s?.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
  const envFile = join(checkout, '.sigil', 'env');
  for (let i = 0; !existsSync(envFile); i++) {
    if (child.exitCode !== null || i > 1200) throw new Error(`sigil up did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const endpoints = JSON.parse(await readFile(join(checkout, '.sigil', 'endpoints.json'), 'utf8'));
  const stop = async () => {
    if (child.exitCode !== null) return;
    // SIGTERM to `sigil up` itself (npx's node child), as an operator stopping the service would.
    const exited = new Promise((r) => child.on('close', r));
    process.kill(endpoints.pid ?? child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return { child, output: () => output, endpoints, stop };
}

/**
 * Rewrites README.md's samples from a run on a clone of HEAD (the README the clone has is the one run and
 * rewritten, so README.md must be committed). The clone uses this checkout's node_modules and native build and is
 * built with `npm run build`: `npm ci` is the e2e test's business, and prints nothing the README shows.
 */
async function main(): Promise<void> {
  const root = join(import.meta.dirname, '..', '..');
  const readmePath = join(root, 'README.md');
  try {
    execFileSync('git', ['diff', '--quiet', 'HEAD', '--', 'README.md'], { cwd: root });
  } catch {
    throw new Error('README.md has uncommitted changes: commit them first (the run uses a clone of HEAD)');
  }
  const dir = await mkdtemp(join(tmpdir(), 'sigil-readme-samples-'));
  const checkout = join(dir, 'sigil');
  const env = cleanEnv({ SIGIL_PORT: '0' });
  let up: RunningUp | undefined;
  try {
    execFileSync('git', ['clone', '--quiet', root, checkout]);
    symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'));
    if (existsSync(join(root, 'build')))
      cpSync(join(root, 'build'), join(checkout, 'build'), { recursive: true });
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: checkout, env, stdio: 'inherit' });
    const markdown = await readFile(join(checkout, 'README.md'), 'utf8');
    const blocks = shellBlocks(markdown);
    const start = stripComment(blocks[0].split('\n')[0]).split('&&')[1].trim();
    up = await startUp(checkout, start, env);
    const run = await bash(markedScript(blocks, 1), { cwd: checkout, env, timeoutMs: 300_000 });
    await up.stop();
    if (run.code !== 0) throw new Error(`the README's blocks failed (exit ${run.code}):\n${run.output}`);
    const place = { port: Number(new URL(up.endpoints.url).port), checkout };
    const outputs = renderedOutputs(up.output(), run.output, place);
    // A sample that differs only in what differs on every run stays as it is: no churn in the README's history.
    for (const { sh, text } of samples(markdown)) {
      const printed = outputs.get(sh);
      if (printed !== undefined && normalise(printed) === normalise(text.body)) outputs.delete(sh);
    }
    await writeFile(readmePath, withSamples(markdown, outputs));
    console.log(`README.md: ${outputs.size} sample(s) rewritten`);
  } finally {
    await up?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: Error) => {
    console.error(`Error: ${err.message}`);
    process.exit(1);
  });
}
