// A worker thread of the CA's issuance pool (pool.ts): it opens the same key hierarchy from the data dir and the
// CT log's SCT signer through the module the composition named (WorkerSctSource), and answers batches of signing requests the main thread passes in, each from its raw body to its
// rendered HTTP answer (answer.ts: token, proof of possession, precertificate, SCT, final certificate). The main
// thread keeps the HTTP server and the CT store.
import { parentPort, workerData } from 'node:worker_threads';
import { answerSigningRequest } from './answer.js';
import { CertificateAuthority, type SctSource, type WorkerSctSource } from './authority.js';
import { openHierarchy } from './hierarchy.js';
import type { IssuerConfig } from './identity.js';
import type { PreparedAnswer, SigningInput } from './request.js';
import { TokenVerifier } from './tokens.js';

interface WorkerInit {
  dataDir: string;
  issuers: IssuerConfig[];
  sct?: WorkerSctSource;
}

export type WorkerRequest =
  | { type: 'batch'; id: number; inputs: SigningInput[] }
  | { type: 'issuers'; issuers: IssuerConfig[] };

/** One answer of a batch; its CT record (recordLength bytes) is the next one in the batch's `records`. */
export type WorkerAnswer =
  | { status: number; contentType: string; body: string; recordLength: number }
  | { error: string };

export type WorkerReply =
  | { type: 'ready' }
  /** Answers to inputs indices[0], indices[1], … of batch `id`. */
  | { type: 'answers'; id: number; indices: number[]; answers: WorkerAnswer[]; records?: ArrayBuffer };

type Result = PreparedAnswer | { error: string };

/** Resolves after the current macrotask, i.e. once everything that can finish without I/O has. */
const IO_WAIT = Symbol('waiting on I/O');
const nextTurn = () => new Promise<typeof IO_WAIT>((resolve) => setImmediate(() => resolve(IO_WAIT)));

/** Answers per reply message. */
const REPLY_GROUP = 4;

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('issue-worker must run as a worker thread');
  const init = workerData as WorkerInit;
  let issuers = init.issuers;
  const hierarchy = await openHierarchy(init.dataDir);
  let sct: SctSource | undefined;
  if (init.sct) {
    const module = (await import(init.sct.module)) as {
      openSctSource(init: unknown, defaultChain: Buffer[]): Promise<SctSource>;
    };
    sct = await module.openSctSource(init.sct.init, [hierarchy.intermediateDer, hierarchy.rootDer]);
  }
  const ca = new CertificateAuthority(hierarchy, new TokenVerifier(() => issuers), sct);
  port.on('message', async (msg: WorkerRequest) => {
    if (msg.type === 'issuers') {
      issuers = msg.issuers;
      return;
    }
    // Answers go back in small groups as they are done: a group at a time keeps the per-message cost low, and
    // early answers let their clients send their next requests while the rest of the batch is being worked on.
    // Requests are answered one after the other, and one that has to wait for the network (its issuer's
    // discovery or JWKS not cached yet, or being refetched) is left to finish on its own and answered alone,
    // so that the rest of the batch does not wait behind it. Everything else completes within the message's
    // own macrotask, so the race below costs one setImmediate per batch.
    let group: Result[] = [];
    let indices: number[] = [];
    let turn = nextTurn();
    for (let i = 0; i < msg.inputs.length; i++) {
      const answer = answerSigningRequest(ca, msg.inputs[i]).catch((err: Error) => ({ error: err.message }));
      const result = await Promise.race([answer, turn]);
      if (result === IO_WAIT) {
        const at = i;
        void answer.then((r) => sendAnswers(msg.id, [at], [r]));
        turn = nextTurn();
      } else {
        group.push(result);
        indices.push(i);
      }
      if (group.length === REPLY_GROUP || (i === msg.inputs.length - 1 && group.length > 0)) {
        sendAnswers(msg.id, indices, group);
        indices = [];
        group = [];
      }
    }
  });
  function sendAnswers(id: number, indices: number[], results: Result[]): void {
    // The group's records go back in one buffer of their own, moved rather than copied.
    let total = 0;
    for (const r of results) if ('ctRecord' in r && r.ctRecord) total += r.ctRecord.length;
    const records = total > 0 ? new ArrayBuffer(total) : undefined;
    const bytes = records && new Uint8Array(records);
    let offset = 0;
    const answers = results.map((r): WorkerAnswer => {
      if ('error' in r) return r;
      const recordLength = r.ctRecord?.length ?? 0;
      if (r.ctRecord && bytes) {
        bytes.set(r.ctRecord, offset);
        offset += recordLength;
      }
      return { status: r.status, contentType: r.contentType, body: r.body, recordLength };
    });
    port?.postMessage(
      { type: 'answers', id, indices, answers, records } satisfies WorkerReply,
      records ? [records] : [],
    );
  }
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
}

main().catch((err) => {
  // Reported to the pool through the worker's 'error' event.
  throw err;
});
