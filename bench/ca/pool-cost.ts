// CPU cost of issuance through the worker pool without HTTP: the same signing requests as bench/ca/answer.ts,
// answered by IssuePool (pool.ts + issue-worker.ts) in batches of a given size, with the CPU time of the issue
// worker threads (from /proc) and of this thread per certificate. Compared with answer.ts's in-process figure,
// the difference is what the threads and their messages cost.
//   node --import tsx bench/ca/pool-cost.ts [batch=1] [requests=4000] [workers=1]
import { generateKeyPairSync, sign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SigningInput } from '../../src/ca/answer.js';
import { createCaService, DEFAULT_AUDIENCE } from '../../src/ca/index.js';
import { IssuePool } from '../../src/ca/pool.js';
import { lateUrl, startServer } from '../../src/server/index.js';

const [batchArg = '1', nArg = '4000', workersArg = '1'] = process.argv.slice(2);
const BATCH = Number(batchArg);
const N = Number(nArg);
const KEYS = 256;

function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    out.set(tid, (Number(f[11]) + Number(f[12])) * 10_000);
  }
  return out;
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-bench-pool-'));
  await writeFile(join(dataDir, 'ca-config.json'), JSON.stringify({ issuers: [], oidcDevMode: true }));
  const url = lateUrl();
  const service = await createCaService({ dataDir, publicUrl: url.get }, { issueWorkers: 0 });
  const server = await startServer([service], { logLevel: 'warn', onUrl: url.set });
  try {
    const inputs: SigningInput[] = [];
    for (let i = 0; i < KEYS; i++) {
      const res = await fetch(`${server.url}/oidc/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          repository: `bench/repo${i}`,
          workflow: '.github/workflows/r.yml',
          ref: 'refs/heads/main',
        }),
      });
      const token = ((await res.json()) as { value: string }).value;
      const sub = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub as string;
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      inputs.push({
        api: 'v2',
        body: JSON.stringify({
          credentials: { oidcIdentityToken: token },
          publicKeyRequest: {
            publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) },
            proofOfPossession: sign('sha256', Buffer.from(sub), privateKey).toString('base64'),
          },
        }),
      });
    }
    const issuers = [{ issuerUrl: server.url, type: 'github-workflow' as const, clientId: DEFAULT_AUDIENCE }];
    const before = new Set(readdirSync('/proc/self/task'));
    const pool = await IssuePool.start(Number(workersArg), dataDir, issuers);
    const workerTids = readdirSync('/proc/self/task').filter((t) => !before.has(t));
    const run = async (n: number) => {
      for (let i = 0; i < n; i += BATCH) {
        // A batch: BATCH requests handed over in one turn of the event loop, all answered before the next.
        const answers = await Promise.all(
          Array.from(
            { length: BATCH },
            (_, k) => pool.answer(inputs[(i + k) % KEYS]) as Promise<{ status: number }>,
          ),
        );
        for (const a of answers) if (a.status !== 200) throw new Error(`answer ${a.status}`);
      }
    };
    await run(3000);
    const t0 = threadCpu();
    await run(N);
    const t1 = threadCpu();
    const per = (tid: string) => ((t1.get(tid) ?? 0) - (t0.get(tid) ?? 0)) / N;
    let workers = 0;
    let others = 0;
    for (const tid of t1.keys()) {
      if (workerTids.includes(tid)) workers += per(tid);
      else if (tid !== String(process.pid)) others += per(tid);
    }
    process.stdout.write(
      `${JSON.stringify({ batch: BATCH, requests: N, workerUsPerCert: Math.round(workers), mainUsPerCert: Math.round(per(String(process.pid))), otherThreadsUsPerCert: Math.round(others) })}\n`,
    );
    await pool.close();
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
