// A timestamp authority as a witness (RFC 3161 over HTTP, §3.4; sigstore/timestamp-authority's endpoint): it
// timestamps the signature bytes (SHA-256 message imprint, a fresh nonce, the certificate asked for) and the
// token goes into the bundle's timestampVerificationData. The answer is checked for what only the client can
// check: granted, and over this imprint with this nonce; its signature and chain are verify/'s job.
import { createHash, randomBytes } from 'node:crypto';
import { encodeTimestampRequest, parseTimestampResponse } from '../formats/index.js';
import { request } from '../net/index.js';
import type { SignedContent } from './bundle.js';
import { SignError } from './errors.js';
import { DEFAULT_TIMEOUT_MS, serviceMessage } from './http.js';
import type { Witness } from './witness.js';

/** The bytes a bundle's signature is: the message signature, or the envelope's one signature. */
export function signatureBytes(content: SignedContent): Buffer {
  return content.messageSignature
    ? content.messageSignature.signature
    : Buffer.from(content.dsseEnvelope.signatures[0].sig, 'base64');
}

/** Fetches an RFC 3161 timestamp over SHA-256 of `data` from the TSA at `url` (…/api/v1/timestamp): the TimeStampResp. */
export async function fetchTimestamp(
  url: string,
  data: Buffer,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<Buffer> {
  const imprint = createHash('sha256').update(data).digest();
  // A positive 8-byte nonce (the top bit clear keeps the INTEGER positive without a leading zero).
  const nonce = randomBytes(8);
  nonce[0] &= 0x7f;
  nonce[0] |= 0x01;
  const body = encodeTimestampRequest({
    hashAlgorithm: 'sha256',
    hashedMessage: imprint,
    nonce,
    certReq: true,
  });
  let status: number;
  let reply: Buffer;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body,
      timeoutMs,
    });
    status = res.status;
    reply = await res.buffer();
  } catch (err) {
    throw new SignError('TSA_ERROR', `timestamp: cannot reach ${url} (${(err as Error).message})`, {
      cause: err,
    });
  }
  let parsed: Awaited<ReturnType<typeof parseTimestampResponse>>;
  try {
    parsed = await parseTimestampResponse(reply);
  } catch {
    throw new SignError(
      'TSA_ERROR',
      `timestamp: ${url} answered ${status}: ${serviceMessage(reply.toString('utf8'))}`,
    );
  }
  const info = parsed.info;
  if (parsed.status > 1 || !info)
    throw new SignError(
      'TSA_ERROR',
      `timestamp: ${url} refused the request: ${parsed.statusString ?? `status ${parsed.status}`}`,
    );
  // Read once with the response: the token's TSTInfo must answer this imprint and nonce.
  if (!info.imprint.equals(imprint) || !info.nonce?.equals(nonce))
    throw new SignError(
      'TSA_ERROR',
      `timestamp: ${url} answered for another request (imprint or nonce differ)`,
    );
  // The bundle keeps the whole TimeStampResp (sigstore_common.proto RFC3161SignedTimestamp: "the DER encoded
  // TimeStampResponse"); Go clients parse it as one and refuse a bare token.
  return reply;
}

/** A TSA as a witness: its token over the signature goes into the bundle. */
export function tsaWitness(url: string): Witness {
  return {
    async testify(content) {
      return { tlogEntries: [], rfc3161Timestamps: [await fetchTimestamp(url, signatureBytes(content))] };
    },
  };
}
