// The SQLite writer thread (sqlite.ts): owns the connection that commits batches, so that a batch's inserts and
// its fsync (synchronous=FULL) do not block the main thread's event loop. It answers each commit only after the
// transaction has committed, which is when the engine may acknowledge the batch's entries.
import { parentPort, workerData } from 'node:worker_threads';
import { decodeBatch } from './batch-wire.js';
import { batchWriter, openDatabase, type WriterReply, type WriterRequest } from './sqlite.js';

const db = openDatabase((workerData as { path: string }).path, { schema: false });
const write = batchWriter(db);

parentPort?.on('message', (req: WriterRequest) => {
  const reply: WriterReply = { id: req.id };
  try {
    if (req.type === 'commit') write(decodeBatch(req.batch));
    else db.close();
  } catch (err) {
    reply.error = (err as Error).message;
  }
  parentPort?.postMessage(reply);
});
