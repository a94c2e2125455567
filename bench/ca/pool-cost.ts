import { readdirSync } from 'node:fs';
import { IssuePool } from '../../src/ca/pool.js';
import { threadCpu } from '../lib/server-process.js';
import { startDevCa } from './dev-ca.js';

const [batchArg = '1', nArg = '4000', workersArg = '1'] = process.argv.slice(2);
const BATCH = Number(batchArg);
const N = Number(nArg);
const KEYS = 256;

async function main() {
  const dev = await startDevCa(KEYS);
  const { dataDir, issuers, inputs } = dev;
  try {
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
    const t0 = threadCpu(process.pid);
    await run(N);
    const t1 = threadCpu(process.pid);
    const per = (tid: string) => (((t1.get(tid) ?? 0) - (t0.get(tid) ?? 0)) * 1e6) / N;
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
    await dev.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
