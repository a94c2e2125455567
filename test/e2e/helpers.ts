// Shared by the end-to-end tests: the README's runnable blocks, an environment free of the caller's sigil
// settings, free ports, and running bash scripts with a time limit.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** The README's runnable commands: fenced blocks whose info string is exactly `sh`, in order. */
export function shellBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const re = /^```sh[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (const m of markdown.matchAll(re)) blocks.push(m[1]);
  return blocks;
}

/** A command line without its trailing `# comment`. */
export function stripComment(line: string): string {
  return line.replace(/\s+#.*$/, '').trim();
}

/** Variables from the caller's shell or npm that would change what sigil or npm do in the clone. */
const AMBIENT =
  /^(SIGIL_|SIGSTORE_|ACTIONS_ID_TOKEN_|COSIGN_|REGISTRY_AUTH_FILE$|DOCKER_CONFIG$|npm_|VITEST)/i;

export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !AMBIENT.test(k)));
  return { ...env, ...extra };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

export interface BashResult {
  code: number | null;
  output: string;
}

/** Runs a bash script (stdout and stderr merged, as a terminal shows them), killed after timeoutMs. */
export function bash(script: string, o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }) {
  return new Promise<BashResult>((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {
      cwd: o.cwd,
      env: o.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      output += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      output += s;
    });
    const timer = setTimeout(() => {
      output += `\n[killed after ${o.timeoutMs} ms]\n`;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
