// A worker thread of the CA's issuance pool (pool.ts): it opens the same key hierarchy and CT signing key from
// the data dir and runs CertificateAuthority.prepare (token, proof of possession, precertificate, SCT, final
// certificate) for requests the main thread passes in. The main thread keeps the HTTP server and the CT store.
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { loadOrCreatePrivateKey, localSigner } from '../crypto/index.js';
import { SctSigner } from '../ct/index.js';
import { CertificateAuthority, type SigningRequest } from './authority.js';
import { CaError } from './errors.js';
import { openHierarchy } from './hierarchy.js';
import type { IssuerConfig } from './identity.js';
import { TokenVerifier } from './tokens.js';

interface WorkerInit {
  dataDir: string;
  issuers: IssuerConfig[];
}

export type WorkerRequest =
  | { id: number; req: SigningRequest }
  | { type: 'issuers'; issuers: IssuerConfig[] };
export type WorkerReply =
  | { type: 'ready' }
  | { id: number; leafPem: string; ctRecord?: ArrayBuffer }
  | { id: number; error: { status?: number; message: string } };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('issue-worker must run as a worker thread');
  const init = workerData as WorkerInit;
  let issuers = init.issuers;
  const hierarchy = await openHierarchy(init.dataDir);
  const ctKey = await loadOrCreatePrivateKey(join(init.dataDir, 'ct', 'ct-key.pem'), 'ecdsa-p256');
  const ca = new CertificateAuthority(
    hierarchy,
    new TokenVerifier(() => issuers),
    new SctSigner(localSigner(ctKey), [hierarchy.intermediateDer, hierarchy.rootDer]),
  );
  // Structured clone turns Buffers into plain Uint8Arrays; the CA code expects Buffers.
  const buf = (u?: Uint8Array) => (u ? Buffer.from(u.buffer, u.byteOffset, u.byteLength) : undefined);
  port.on('message', async (msg: WorkerRequest) => {
    if ('type' in msg) {
      issuers = msg.issuers;
      return;
    }
    try {
      const req = { ...msg.req, proofOfPossession: buf(msg.req.proofOfPossession), csr: buf(msg.req.csr) };
      const out = await ca.prepare(req);
      // The record moves to the main thread without a copy: it gets an ArrayBuffer of its own to transfer
      // (a small Buffer shares Node's pool slab, which must not be detached).
      let ctRecord: ArrayBuffer | undefined;
      if (out.ctRecord) {
        ctRecord = new ArrayBuffer(out.ctRecord.length);
        new Uint8Array(ctRecord).set(out.ctRecord);
      }
      port.postMessage(
        { id: msg.id, leafPem: out.leafPem, ctRecord } satisfies WorkerReply,
        ctRecord ? [ctRecord] : [],
      );
    } catch (err) {
      const status = err instanceof CaError ? err.status : undefined;
      port.postMessage({
        id: msg.id,
        error: { status, message: (err as Error).message },
      } satisfies WorkerReply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
}

main().catch((err) => {
  // Reported to the pool through the worker's 'error' event.
  throw err;
});
