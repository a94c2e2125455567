// The CT tree's own thread: runs an InlineTree (the Merkle engine + SQLite) and answers the main thread's
// appends and proof requests by message. See tree-backend.ts for why.
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { localSigner } from '../crypto/index.js';
import { InlineTree } from './tree-backend.js';

export type TreeRequest =
  /** The leaves back to back in `packed`, with their lengths. */
  | { id: number; op: 'append'; start: number; packed: ArrayBuffer; lengths: number[] }
  | { id: number; op: 'consistency'; first: number; second: number }
  | { id: number; op: 'prove'; hash: Uint8Array; size: number }
  | { id: number; op: 'close' };

export type TreeReply =
  | { type: 'head'; size: number; root: Uint8Array; timestamp: number }
  | { id: number; result: unknown }
  | { id: number; error: string };

const b = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('tree-worker must run as a worker thread');
  const { dir, keyPath } = workerData as { dir: string; keyPath: string };
  const tree = await InlineTree.open(dir, localSigner(createPrivateKey(await readFile(keyPath, 'utf8'))));
  const sendHead = () => port.postMessage({ type: 'head', ...tree.head() } satisfies TreeReply);
  port.on('message', async (m: TreeRequest) => {
    try {
      let result: unknown;
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
      } else if (m.op === 'consistency') result = await tree.consistency(m.first, m.second);
      else if (m.op === 'prove') result = await tree.proveByHash(b(m.hash), m.size);
      else if (m.op === 'close') await tree.close();
      port.postMessage({ id: m.id, result } satisfies TreeReply);
    } catch (err) {
      port.postMessage({ id: m.id, error: (err as Error).message } satisfies TreeReply);
    }
  });
  sendHead();
}

main().catch((err) => {
  throw err;
});
