// The SQLite writer thread (sqlite.ts): owns the connection that commits batches, so that a batch's inserts and
// its fsync (synchronous=FULL) do not block the main thread's event loop. It answers each commit only after the
// transaction has committed, which is when the engine may acknowledge the batch's entries. It also merges the
// in-memory index into the index tables, one chunk per turn of its event loop, so commits go on meanwhile, from
// the index rows it kept of what it committed (storageWriter).
import { parentPort, workerData } from 'node:worker_threads';
import { answerCalls } from '../../../workers/index.js';
import { decodeBatch } from './batch-wire.js';
import { openDatabase, runSteps, storageWriter, type WriterRequest } from './sqlite.js';

const db = openDatabase((workerData as { path: string }).path, { schema: false });
const writer = storageWriter(db);
let closing = false;

if (parentPort)
  answerCalls<WriterRequest & { id: number }>(parentPort, (req) => {
    if (req.type === 'commit') writer.commit(decodeBatch(req.batch));
    else if (req.type === 'merge')
      return new Promise<void>((resolve, reject) =>
        runSteps(
          writer.mergeSteps(req.upTo),
          (err) => (err ? reject(err) : resolve()),
          () => closing,
        ),
      );
    else {
      closing = true;
      db.close();
    }
  });
