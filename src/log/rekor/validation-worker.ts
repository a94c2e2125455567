// Worker thread of the log's pool (validation-pool.ts): receives batches of jobs, validates the proposed entries
// (JSON text; signature checks included, ECDSA batched) and answers with each entry's canonical body, leaf hash
// and search terms, or the error that rejects it; signs SET payloads with the keys the pool sent (each once,
// kept by number).
import type { KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { FormatError } from '../../formats/rekor-entry.js';
import { leafHash } from '../../merkle/hash.js';
import { type Proposal, validateEntries } from './entry-types.js';
import { KeyError } from './keys.js';
import { signWith, type WorkerReply, type WorkerRequest, type WorkerResult } from './validation-pool.js';

function errorResult(err: Error): WorkerResult {
  const type =
    err instanceof FormatError
      ? 'FormatError'
      : err instanceof KeyError
        ? 'KeyError'
        : err instanceof RangeError
          ? 'RangeError'
          : 'Error';
  return { error: { type, message: err.message } };
}

/** Signing keys by the number the pool gave them (sent once each). */
const keys = new Map<number, KeyObject>();

parentPort?.on('message', (req: WorkerRequest) => {
  for (const k of req.keys) keys.set(k.id, k.key);
  const results: WorkerResult[] = new Array(req.jobs.length);
  const proposals: Proposal[] = [];
  const at: number[] = [];
  req.jobs.forEach((job, i) => {
    if ('validate' in job) {
      proposals.push(job.validate);
      at.push(i);
      return;
    }
    try {
      const key = keys.get(job.key);
      if (!key) throw new Error(`no signing key ${job.key} was sent to this worker`);
      results[i] = { signature: signWith(key, job.sign) };
    } catch (err) {
      results[i] = errorResult(err as Error);
    }
  });
  validateEntries(proposals).forEach((r, j) => {
    results[at[j]] =
      r instanceof Error
        ? errorResult(r)
        : {
            kind: r.kind,
            apiVersion: r.apiVersion,
            body: r.body,
            terms: r.terms,
            leafHash: leafHash(r.body),
          };
  });
  parentPort?.postMessage({ id: req.id, results } satisfies WorkerReply);
});
