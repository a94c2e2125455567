// The SQLite writer thread (sqlite.ts): owns the connection that commits batches, so that a batch's inserts and
// its fsync (synchronous=FULL) do not block the main thread's event loop. It answers each commit only after the
// transaction has committed, which is when the engine may acknowledge the batch's entries.
import { parentPort, workerData } from 'node:worker_threads';
import { batchWriter, openDatabase, type WriterReply, type WriterRequest } from './sqlite.js';
import type { BatchWrite } from './types.js';

const db = openDatabase((workerData as { path: string }).path, { schema: false });
const write = batchWriter(db);

/** Structured clone turns Buffers into plain Uint8Arrays; better-sqlite3 binds Buffers as BLOBs. */
const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function revive(b: BatchWrite): BatchWrite {
  return {
    entries: b.entries.map((e) => ({ ...e, data: buf(e.data), identity: buf(e.identity) })),
    terms: b.terms,
    tiles: b.tiles.map((t) => ({ ...t, data: buf(t.data) })),
    head: { ...b.head, root: buf(b.head.root) },
  };
}

parentPort?.on('message', (req: WriterRequest) => {
  const reply: WriterReply = { id: req.id };
  try {
    if (req.type === 'commit') write(revive(req.batch));
    else db.close();
  } catch (err) {
    reply.error = (err as Error).message;
  }
  parentPort?.postMessage(reply);
});
