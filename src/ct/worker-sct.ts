// The CT log's SCT signer as another thread opens it (the CA's issue workers: see ca/'s WorkerSctSource): a
// module loaded by URL, since threads share no objects. It signs with the CT key file; the entry records it makes
// are appended to the log by the main thread.
import { loadOrCreatePrivateKey, localSigner } from '../crypto/index.js';
import { workerModule } from '../workers/index.js';
import { SctSigner } from './log.js';

/** What openSctSource is given (cloned into the worker). */
export interface WorkerSctInit {
  keyPath: string;
}

/** This module's URL, for the thread that imports it (the compiled .js, or the .ts under tsx). */
export const CT_WORKER_SCT_MODULE = workerModule(new URL('./worker-sct.js', import.meta.url)).href;

/** `defaultChain` is the CA's own chain, left out of entry records (see log.ts encodeRecord). */
export async function openSctSource(init: WorkerSctInit, defaultChain: Buffer[]): Promise<SctSigner> {
  return new SctSigner(localSigner(await loadOrCreatePrivateKey(init.keyPath, 'ecdsa-p256')), defaultChain);
}
