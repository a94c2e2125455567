// Worker thread of the validation pool (validation-pool.ts): receives batches of proposed entries (JSON text),
// validates them with validateEntries (signature checks included, ECDSA batched) and answers with each entry's
// canonical body, leaf hash and search terms, or the error that rejects it. No state besides the message port.
import { parentPort } from 'node:worker_threads';
import { FormatError } from '../../formats/rekor-entry.js';
import { leafHash } from '../../merkle/hash.js';
import { validateEntries } from './entry-types.js';
import { KeyError } from './keys.js';
import type { WorkerReply, WorkerRequest, WorkerResult } from './validation-pool.js';

function errorType(err: Error): 'FormatError' | 'KeyError' | 'RangeError' | 'Error' {
  if (err instanceof FormatError) return 'FormatError';
  if (err instanceof KeyError) return 'KeyError';
  if (err instanceof RangeError) return 'RangeError';
  return 'Error';
}

parentPort?.on('message', (req: WorkerRequest) => {
  const results: WorkerResult[] = validateEntries(req.proposals).map((r) =>
    r instanceof Error
      ? { error: { type: errorType(r), message: r.message } }
      : { kind: r.kind, apiVersion: r.apiVersion, body: r.body, terms: r.terms, leafHash: leafHash(r.body) },
  );
  parentPort?.postMessage({ id: req.id, results } satisfies WorkerReply);
});
