// Worker thread of the log's pool (validation-pool.ts). Two queues reach it: proposed entries to validate (JSON
// text; signature checks included, ECDSA batched), answered per message with each entry's canonical body, leaf
// hash and search terms or the error that rejects it; and, on its own port, SET payloads to sign with the keys
// the pool sent (each once, kept by number). Signing comes first: between small groups of validations the worker
// takes whatever signing work has arrived, so a batch's answers never wait behind a queue of new proposals.
import type { KeyObject } from 'node:crypto';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { FormatError } from '../../formats/index.js';
import { leafHash } from '../../merkle/index.js';
import { type Proposal, validateEntries } from './entry-types.js';
import { KeyError } from './keys.js';
import {
  type SignReply,
  type SignRequest,
  signWith,
  type ValidateReply,
  type ValidateRequest,
  type WorkerResult,
} from './validation-pool.js';

/** Validations done between two looks at the signing port: ECDSA checks still go to the addon a few at once. */
const VALIDATIONS_BETWEEN_SIGNS = 4;

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
const signPort = (workerData as { signPort: MessagePort }).signPort;

function sign(req: SignRequest): void {
  for (const k of req.keys) keys.set(k.id, k.key);
  const results = req.jobs.map((job): WorkerResult => {
    try {
      const key = keys.get(job.key);
      if (!key) throw new Error(`no signing key ${job.key} was sent to this worker`);
      return { signature: signWith(key, job.sign) };
    } catch (err) {
      return errorResult(err as Error);
    }
  });
  signPort.postMessage({ id: req.id, results } satisfies SignReply);
}

/** Signs everything already waiting on the signing port. */
function signWaiting(): void {
  for (let m = receiveMessageOnPort(signPort); m; m = receiveMessageOnPort(signPort)) {
    sign(m.message as SignRequest);
  }
}

signPort.on('message', sign);

parentPort?.on('message', (req: ValidateRequest) => {
  const results: WorkerResult[] = [];
  for (let at = 0; at < req.jobs.length; at += VALIDATIONS_BETWEEN_SIGNS) {
    signWaiting();
    const group: Proposal[] = req.jobs.slice(at, at + VALIDATIONS_BETWEEN_SIGNS);
    for (const r of validateEntries(group)) {
      results.push(
        r instanceof Error
          ? errorResult(r)
          : {
              kind: r.kind,
              apiVersion: r.apiVersion,
              body: r.body,
              terms: r.terms,
              leafHash: leafHash(r.body),
            },
      );
    }
  }
  parentPort?.postMessage({ id: req.id, results } satisfies ValidateReply);
});
