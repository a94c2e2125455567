// Signing artifacts into Sigstore bundles: a message signature over a blob (cosign sign-blob) and a DSSE envelope
// over any payload, usually an in-toto statement (cosign attest-blob). The signing identity signs; then every
// witness testifies (witness.ts: the Rekor v1 log, unless --tlog-upload=false leaves none), and the bundle holds
// the signature with what they said.
import { createHash } from 'node:crypto';
import { preAuthEncoding } from '../formats/index.js';
import { buildBundle, type DsseEnvelopeJson, type SignedContent } from './bundle.js';
import type { RekorEntry } from './rekor.js';
import type { SigningIdentity } from './signer.js';
import type { Witness } from './witness.js';

export interface SigningContext {
  identity: SigningIdentity;
  /** Who testifies to the signature; none to sign only. */
  witnesses: Witness[];
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

/** The bundle for a signature the identity made, with every witness's testimony, and the Rekor entry if any. */
async function witnessed(content: SignedContent, ctx: SigningContext) {
  const { identity } = ctx;
  const said = await Promise.all(ctx.witnesses.map((w) => w.testify(content, identity.logVerifierPem)));
  const bundle = buildBundle({
    ...content,
    ...(identity.certificate
      ? { certificate: identity.certificate.chain[0] }
      : { publicKeyHint: identity.keyHint }),
    tlogEntries: said.flatMap((t) => t.tlogEntries),
    rfc3161Timestamps: said.flatMap((t) => t.rfc3161Timestamps ?? []),
  });
  return { bundle, entry: said.find((t) => t.rekorEntry)?.rekorEntry };
}

/** Signs `artifact` (SHA-256, ECDSA over the bytes), has it witnessed, and returns the v0.3 bundle. */
export async function signBlob(artifact: Uint8Array, ctx: SigningContext): Promise<SignedBlob> {
  const digest = createHash('sha256').update(artifact).digest();
  const signature = await ctx.identity.signer.sign(artifact);
  return { ...(await witnessed({ messageSignature: { digest, signature } }, ctx)), signature, digest };
}

/** Wraps `payload` in a DSSE envelope signed over its PAE, has it witnessed, and returns the bundle. */
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
  return { ...(await witnessed({ dsseEnvelope: envelope }, ctx)), envelope };
}
