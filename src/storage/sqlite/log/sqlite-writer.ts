// The SQLite writer thread (sqlite.ts): owns the connection that commits batches, so that a batch's inserts and
// its fsync (synchronous=FULL) do not block the main thread's event loop. It answers each commit only after the
// transaction has committed, which is when the engine may acknowledge the batch's entries. It also merges the
// in-memory index into the index tables, one chunk per turn of its event loop, so commits go on meanwhile, from
// the index rows it kept of what it committed (storageWriter).
import { parentPort, workerData } from 'node:worker_threads';
import { decodeBatch } from './batch-wire.js';
import { openDatabase, runSteps, storageWriter, type WriterReply, type WriterRequest } from './sqlite.js';

const db = openDatabase((workerData as { path: string }).path, { schema: false });
const writer = storageWriter(db);
let closing = false;

const answer = (id: number, err?: unknown) =>
  parentPort?.postMessage({
    id,
    ...(err === undefined ? {} : { error: (err as Error).message }),
  } satisfies WriterReply);

parentPort?.on('message', (req: WriterRequest) => {
  try {
    if (req.type === 'commit') writer.commit(decodeBatch(req.batch));
    else if (req.type === 'merge') {
      runSteps(
        writer.mergeSteps(req.upTo),
        (err) => answer(req.id, err),
        () => closing,
      );
      return;
    } else {
      closing = true;
      db.close();
    }
  } catch (err) {
    return answer(req.id, err);
  }
  answer(req.id);
});
