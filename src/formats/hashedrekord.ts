// Rekor "hashedrekord" v0.0.1 (sigstore/rekor pkg/types/hashedrekord/v0.0.1/hashedrekord_v0_0_1_schema.json):
// a signature over an artifact's digest, with the public key or certificate that made it. The canonical body
// keeps the digest, the signature and the canonical PEM of the key (base64), and drops everything else.
import {
  decodeBase64,
  expectHex,
  expectObject,
  expectString,
  FormatError,
  type JsonObject,
  onlyKeys,
  type ProposedEntry,
} from './rekor-entry.js';

export const HASHEDREKORD_KIND = 'hashedrekord';
export const HASHEDREKORD_V001 = '0.0.1';

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';
const DIGEST_BYTES: Record<DigestAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };

export interface HashedRekordV001 {
  algorithm: DigestAlgorithm;
  /** Lowercase hex digest of the artifact. */
  digestHex: string;
  signature: Buffer;
  /** The PEM bytes of the public key or certificate, as sent. */
  publicKey: Buffer;
}

/** The proposal a client sends: the signature over the artifact's digest and the signer's PEM (key or certificate). */
export function hashedRekordProposal(
  digestHex: string,
  signature: Buffer,
  signerPem: string,
  algorithm: DigestAlgorithm = 'sha256',
): ProposedEntry {
  return {
    kind: HASHEDREKORD_KIND,
    apiVersion: HASHEDREKORD_V001,
    spec: {
      signature: {
        content: signature.toString('base64'),
        publicKey: { content: Buffer.from(signerPem, 'utf8').toString('base64') },
      },
      data: { hash: { algorithm, value: digestHex } },
    },
  };
}

/** Checks a hashedrekord v0.0.1 spec against the schema and the insertability rules. */
export function parseHashedRekordV001(spec: JsonObject): HashedRekordV001 {
  const sig = expectObject(spec.signature, 'spec.signature');
  const data = expectObject(spec.data, 'spec.data');
  const signature = decodeBase64(sig.content, 'spec.signature.content');
  const pk = expectObject(sig.publicKey, 'spec.signature.publicKey');
  const publicKey = decodeBase64(pk.content, 'spec.signature.publicKey.content');
  const hash = expectObject(data.hash, 'spec.data.hash');
  if ('content' in data) throw new FormatError('spec.data.content is not accepted; send only the digest');
  // The canonical body keeps only these members: anything else a client sends would be dropped silently, so a
  // misspelt or smuggled member is refused instead, as the entry envelope and the DSSE spec do.
  onlyKeys(spec, ['data', 'signature'], 'spec');
  onlyKeys(data, ['hash'], 'spec.data');
  onlyKeys(hash, ['algorithm', 'value'], 'spec.data.hash');
  onlyKeys(sig, ['content', 'publicKey'], 'spec.signature');
  onlyKeys(pk, ['content'], 'spec.signature.publicKey');
  const algorithm = expectString(hash.algorithm, 'spec.data.hash.algorithm');
  if (!(algorithm in DIGEST_BYTES)) {
    throw new FormatError('spec.data.hash.algorithm must be one of sha256, sha384, sha512');
  }
  const alg = algorithm as DigestAlgorithm;
  const digestHex = expectHex(hash.value, 'spec.data.hash.value', DIGEST_BYTES[alg]);
  return { algorithm: alg, digestHex, signature, publicKey };
}

/**
 * The canonical entry body (what is hashed into the log): RFC 8785 JSON, written out directly. Every value is
 * base64, lowercase hex or one of three algorithm names, none of which JSON escapes, and the keys are written in
 * canonical (sorted) order, so no sort or escape pass is needed; test/log/canonical-body.test.ts checks it against
 * canonicalJson.
 */
export function hashedRekordV001Body(e: HashedRekordV001, canonicalPem: string): Buffer {
  if (!(e.algorithm in DIGEST_BYTES) || !/^[0-9a-f]*$/.test(e.digestHex)) {
    throw new FormatError('hashedrekord digest must be a known algorithm and lowercase hex');
  }
  const signature = e.signature.toString('base64');
  const publicKey = Buffer.from(canonicalPem).toString('base64');
  return Buffer.from(
    `{"apiVersion":"${HASHEDREKORD_V001}","kind":"${HASHEDREKORD_KIND}","spec":{"data":{"hash":{"algorithm":"${e.algorithm}","value":"${e.digestHex}"}},"signature":{"content":"${signature}","publicKey":{"content":"${publicKey}"}}}}`,
    'utf8',
  );
}
