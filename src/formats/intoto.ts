// Rekor "intoto" v0.0.2 (sigstore/rekor pkg/types/intoto/v0.0.2/intoto_v0_0_2_schema.json): a DSSE envelope whose
// payload and signatures are base64-encoded twice (the JSON holds base64 of the DSSE base64 strings), each
// signature with its public key, plus the client's hash of the envelope. The canonical body drops the payload and
// records its SHA-256.
import { createHash } from 'node:crypto';
import {
  canonicalJson,
  decodeBase64,
  expectArray,
  expectHex,
  expectObject,
  expectString,
  FormatError,
  type JsonObject,
} from './rekor-entry.js';

export const INTOTO_KIND = 'intoto';
export const INTOTO_V002 = '0.0.2';

export interface IntotoV002Signature {
  keyid?: string;
  /** The DSSE signature bytes. */
  sig: Buffer;
  /** PEM bytes of the public key or certificate. */
  publicKey: Buffer;
}

export interface IntotoV002 {
  payloadType: string;
  /** The DSSE payload bytes. */
  payload: Buffer;
  signatures: IntotoV002Signature[];
  /** The client's SHA-256 of the envelope (hex). */
  envelopeHash: string;
}

/** Decodes a field that holds base64 of a base64 string. */
function doubleBase64(v: unknown, path: string): Buffer {
  const inner = decodeBase64(v, path).toString('latin1');
  return decodeBase64(inner, `${path} (inner base64)`);
}

export function parseIntotoV002(spec: JsonObject): IntotoV002 {
  const content = expectObject(spec.content, 'spec.content');
  const env = expectObject(content.envelope, 'spec.content.envelope');
  const payloadType = expectString(env.payloadType, 'spec.content.envelope.payloadType');
  if (env.payload === undefined) throw new FormatError('spec.content.envelope.payload is required');
  const payload = doubleBase64(env.payload, 'spec.content.envelope.payload');
  const sigs = expectArray(env.signatures, 'spec.content.envelope.signatures');
  if (sigs.length === 0)
    throw new FormatError('spec.content.envelope.signatures must hold at least one signature');
  const signatures = sigs.map((s, i) => {
    const path = `spec.content.envelope.signatures[${i}]`;
    const so = expectObject(s, path);
    const keyid = so.keyid === undefined ? undefined : expectString(so.keyid, `${path}.keyid`);
    return {
      keyid,
      sig: doubleBase64(so.sig, `${path}.sig`),
      publicKey: decodeBase64(so.publicKey, `${path}.publicKey`),
    };
  });
  const hash = expectObject(content.hash, 'spec.content.hash');
  if (hash.algorithm !== 'sha256') throw new FormatError('spec.content.hash.algorithm must be sha256');
  const envelopeHash = expectHex(hash.value, 'spec.content.hash.value', 32);
  return { payloadType, payload, signatures, envelopeHash };
}

export function intotoV002Body(e: IntotoV002): Buffer {
  const b64 = (b: Buffer) => b.toString('base64');
  return canonicalJson({
    apiVersion: INTOTO_V002,
    kind: INTOTO_KIND,
    spec: {
      content: {
        envelope: {
          payloadType: e.payloadType,
          signatures: e.signatures.map((s) => ({
            ...(s.keyid ? { keyid: s.keyid } : {}),
            publicKey: b64(s.publicKey),
            sig: Buffer.from(b64(s.sig)).toString('base64'),
          })),
        },
        hash: { algorithm: 'sha256', value: e.envelopeHash },
        payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(e.payload).digest('hex') },
      },
    },
  });
}
