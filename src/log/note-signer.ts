// Who signs a log's checkpoints. The engine hands each NoteSigner the checkpoint text and the head it describes;
// a signer returns the signature bytes that go after its 4-byte key ID on the note's signature line. Rekor v1
// style (what sigstore-js verifies): ECDSA/SHA-256 over the text, key ID = first 4 bytes of the log ID; Rekor v2
// style (C2SP signed-note): Ed25519 over the text, key ID from the key's name and bytes.
import { createHash, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { keyId, type Signer, spkiDer } from '../crypto/index.js';
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

/** C2SP signed-note Ed25519 signature type (signed-note.md §"Signature types"). */
const ED25519_NOTE_TYPE = 0x01;

/**
 * The C2SP signed-note key hash of an Ed25519 key: SHA-256(name ‖ "\n" ‖ 0x01 ‖ raw public key). Its first four
 * bytes are the key ID on signature lines; rekor-tiles names the log by all 32 (the trusted root's logId).
 */
export function ed25519NoteKeyHash(name: string, publicKey: KeyObject): Buffer {
  const raw = spkiDer(publicKey).subarray(-32);
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`, 'utf8'), Buffer.from([ED25519_NOTE_TYPE]), raw]))
    .digest();
}

/** A C2SP checkpoint signer with an Ed25519 key (Rekor v2, witnesses): a plain Ed25519 signature over the text. */
export function ed25519NoteSigner(privateKey: KeyObject, name: string): NoteSigner & { keyHash: Buffer } {
  if (!isValidKeyName(name)) throw new Error(`invalid checkpoint key name ${JSON.stringify(name)}`);
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error('an Ed25519 note signer needs an Ed25519 key');
  const keyHash = ed25519NoteKeyHash(name, createPublicKey(privateKey));
  return {
    name,
    keyId: keyHash.subarray(0, 4),
    keyHash,
    sign: async (text) => sign(null, Buffer.from(text, 'utf8'), privateKey),
  };
}
