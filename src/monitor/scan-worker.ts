// A scan worker of the monitor (monitor.ts starts a few on a long catch-up): given an entry bundle's URL it fetches
// the bundle and answers with scanBundle's result (its leaf hashes and matches, a few KB), so that fetching,
// hashing and certificate reading run on every core while the main thread only extends the tree's edge in order
// (handing the bundles themselves between threads costs about as much as scanning them).
import { parentPort, workerData } from 'node:worker_threads';
import { answerCalls } from '../workers/index.js';
import { type IdentityRule, prefilterFor } from './entries.js';
import { fetchAndScan } from './scan.js';

interface ScanRequest {
  id: number;
  url: string;
  n: number;
  skip: number;
}

const rule = (workerData as { rule: IdentityRule }).rule;
const prefilter = prefilterFor(rule);
if (!parentPort) throw new Error('scan-worker.ts runs as a worker thread');
answerCalls<ScanRequest>(parentPort, (q) => fetchAndScan(q.url, q.n, q.skip, rule, prefilter));
