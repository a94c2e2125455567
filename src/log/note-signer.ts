// Who signs a log's checkpoints. The engine hands each NoteSigner the checkpoint text and the head it describes;
// a signer returns the signature bytes that go after its 4-byte key ID on the note's signature line. Rekor v1
// style (what sigstore-js verifies): ECDSA/SHA-256 over the text, key ID = first 4 bytes of the log ID.
import { keyId, type Signer } from '../crypto/index.js';
import { isValidKeyName } from '../formats/index.js';

export interface NoteSigner {
  /** Key name on the signature line; sigstore-js requires it to match the log's base URL (a hostname works). */
  readonly name: string;
  readonly keyId: Uint8Array;
  sign(text: string, head: { size: number; root: Buffer; timestamp: number }): Promise<Uint8Array>;
}

/** A Rekor v1 checkpoint signer: signs the note text with the log key; key ID = SHA-256(SPKI)[0:4]. */
export function rekorNoteSigner(signer: Signer, name: string): NoteSigner {
  if (!isValidKeyName(name)) throw new Error(`invalid checkpoint key name ${JSON.stringify(name)}`);
  return {
    name,
    keyId: keyId(signer.publicKey).subarray(0, 4),
    sign: (text) => signer.sign(Buffer.from(text, 'utf8')),
  };
}
