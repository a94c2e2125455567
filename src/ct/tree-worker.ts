// The CT tree's own thread: runs an InlineTree (the Merkle engine + SQLite) and answers the main thread's
// appends and proof requests by message. See tree-backend.ts for why.
import { createPrivateKey } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { localSigner } from '../crypto/index.js';
import type { OpenLogStorage } from '../log/index.js';
import { answerCalls } from '../workers/index.js';
import { InlineTree } from './tree-backend.js';

/** Calls to the thread (workers/' calls add the id and carry the answers). */
export type TreeRequest =
  /** The leaves back to back in `packed`, with their lengths. */
  | { op: 'append'; start: number; packed: ArrayBuffer; lengths: number[] }
  | { op: 'consistency'; first: number; second: number }
  | { op: 'prove'; hash: Uint8Array; size: number }
  | { op: 'close' };

/** Sent by the thread on its own, once it is ready and after each append: the tree's new head. */
export type TreeHeadMessage = { type: 'head'; size: number; root: Uint8Array; timestamp: number };

/**
 * Nice value of the tree thread (and of the SQLite writer thread the engine starts from it, which inherits it).
 * Merging is background work with a 60 s deadline (the MMD), but it comes in bursts (a batch every ~250 ms:
 * hashing, SQLite inserts, a checkpoint signature) that, on a machine whose cores the issue workers and the HTTP
 * thread keep busy, held up certificate requests for tens of ms at each batch (visible in bench/ca's open-loop
 * trace as a latency bump at every merge). At nice 10 it weighs a tenth of a normal thread. Measured, four
 * alternating pairs at 2,000/s offered: p99 31/34/186/326 ms against 42/91/457/473 ms at nice 0, and 30-50 µs
 * less CPU per certificate (nice 5 made no measurable difference). It still keeps up at saturation: after 20 s
 * at 32 in flight (2,146/s) the tree was 537 entries (a quarter of a second) behind, within a second of the
 * end all merged; the MMD is 60 s.
 */
const TREE_NICE = 10;

/** Linux: sets the calling thread's nice value (setpriority takes a thread id there); elsewhere does nothing. */
function lowerThisThreadsPriority(nice: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // No /proc/thread-self (not Linux) or not permitted: the thread keeps the default priority.
  }
}

const b = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('tree-worker must run as a worker thread');
  const { dir, keyPath, storageModule } = workerData as {
    dir: string;
    keyPath: string;
    storageModule: string;
  };
  lowerThisThreadsPriority(Number(process.env.SIGIL_CT_TREE_NICE ?? TREE_NICE));
  const { openLogStorage } = (await import(storageModule)) as { openLogStorage: OpenLogStorage };
  const signer = localSigner(createPrivateKey(await readFile(keyPath, 'utf8')));
  const tree = await InlineTree.open(dir, signer, openLogStorage);
  const sendHead = () => port.postMessage({ type: 'head', ...tree.head() } satisfies TreeHeadMessage);
  answerCalls<TreeRequest & { id: number }>(port, async (m) => {
    if (m.op === 'append') {
      const packed = Buffer.from(m.packed);
      const leaves: Buffer[] = [];
      let offset = 0;
      for (const len of m.lengths) {
        leaves.push(packed.subarray(offset, offset + len));
        offset += len;
      }
      await tree.append(m.start, leaves);
      sendHead();
    } else if (m.op === 'consistency') return tree.consistency(m.first, m.second);
    else if (m.op === 'prove') return tree.proveByHash(b(m.hash), m.size);
    else if (m.op === 'close') await tree.close();
  });
  sendHead();
}

main().catch((err) => {
  throw err;
});
