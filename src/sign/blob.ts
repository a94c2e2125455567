// Signing artifacts into Sigstore bundles: a message signature over a blob (cosign sign-blob; the log entry is
// hashedrekord v0.0.1 over the blob's SHA-256) and a DSSE envelope over any payload, usually an in-toto statement
// (cosign attest-blob; the log entry is dsse v0.0.1). Without a log client, no entry is made (--tlog-upload=false).
import { createHash } from 'node:crypto';
import { dsseProposal, hashedRekordProposal, preAuthEncoding, toBundleTlogEntry } from '../formats/index.js';
import { buildBundle, type DsseEnvelopeJson } from './bundle.js';
import type { RekorClient, RekorEntry } from './rekor.js';
import type { SigningIdentity } from './signer.js';

export interface SigningContext {
  identity: SigningIdentity;
  /** The transparency log; undefined to skip logging. */
  rekor?: RekorClient;
}

export interface SignedBlob {
  bundle: Record<string, unknown>;
  signature: Buffer;
  digest: Buffer;
  entry?: RekorEntry;
}

export interface SignedEnvelope {
  bundle: Record<string, unknown>;
  envelope: DsseEnvelopeJson;
  entry?: RekorEntry;
}

function material(identity: SigningIdentity) {
  return identity.certificate
    ? { certificate: identity.certificate.chain[0] }
    : { publicKeyHint: identity.keyHint };
}

/** Signs `artifact` (SHA-256, ECDSA over the bytes), logs it, and returns the v0.3 bundle. */
export async function signBlob(artifact: Uint8Array, ctx: SigningContext): Promise<SignedBlob> {
  const digest = createHash('sha256').update(artifact).digest();
  const signature = await ctx.identity.signer.sign(artifact);
  const entry = ctx.rekor
    ? await ctx.rekor.createEntry(
        hashedRekordProposal(digest.toString('hex'), signature, ctx.identity.logVerifierPem),
      )
    : undefined;
  const bundle = buildBundle({
    ...material(ctx.identity),
    tlogEntries: entry ? [toBundleTlogEntry(entry)] : [],
    messageSignature: { digest, signature },
  });
  return { bundle, signature, digest, entry };
}

/** Wraps `payload` in a DSSE envelope signed over its PAE, logs it as a dsse entry, returns the bundle. */
export async function signDsse(
  payloadType: string,
  payload: Uint8Array,
  ctx: SigningContext,
): Promise<SignedEnvelope> {
  const sig = await ctx.identity.signer.sign(preAuthEncoding(payloadType, payload));
  const envelope: DsseEnvelopeJson = {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid: '', sig: sig.toString('base64') }],
  };
  const entry = ctx.rekor
    ? await ctx.rekor.createEntry(dsseProposal(JSON.stringify(envelope), ctx.identity.logVerifierPem))
    : undefined;
  const bundle = buildBundle({
    ...material(ctx.identity),
    tlogEntries: entry ? [toBundleTlogEntry(entry)] : [],
    dsseEnvelope: envelope,
  });
  return { bundle, envelope, entry };
}
