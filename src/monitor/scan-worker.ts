// A scan worker of the monitor (monitor.ts starts a few on a long catch-up): it receives entry bundles (moved, not
// copied) and answers each with scanBundle's result, so that hashing and certificate reading run on every core
// while the main thread fetches bundles and extends the tree's edge in order.
import { parentPort, workerData } from 'node:worker_threads';
import { answerCalls } from '../workers/index.js';
import { type IdentityRule, prefilterFor } from './entries.js';
import { scanBundle } from './scan.js';

interface ScanRequest {
  id: number;
  bundle: Uint8Array;
  n: number;
  skip: number;
}

const rule = (workerData as { rule: IdentityRule }).rule;
const prefilter = prefilterFor(rule);
if (!parentPort) throw new Error('scan-worker.ts runs as a worker thread');
answerCalls<ScanRequest>(parentPort, (q) => scanBundle(q.bundle, q.n, q.skip, rule, prefilter));
