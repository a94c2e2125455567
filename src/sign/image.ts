// Signing container images the way cosign does: resolve the reference to a manifest digest (a tag is resolved
// first and the caller warned), sign cosign's simple-signing payload for that digest (SIGNATURE_SPEC.md), log it
// as a hashedrekord entry, and attach the one signature in both registry layouts (attach.ts). Attestations sign an
// in-toto statement about the digest in a DSSE envelope and go to `.att` and a referrer.
import { createHash } from 'node:crypto';
import {
  buildSimpleSigningPayload,
  COSIGN_SIGN_PREDICATE_TYPE,
  cosignRekorBundle,
  DSSE_MEDIA_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  PREDICATE_TYPE_ANNOTATION,
  type RekorLogEntry,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from '../formats/index.js';
import {
  type CosignSignatureFields,
  type ImageTarget,
  type RegistryClient,
  repositoryName,
} from '../oci/index.js';
import { attachBundleReferrer, attachCosignLayer } from './attach.js';
import { type SigningContext, signBlob, signDsse } from './blob.js';
import { SignError } from './errors.js';
import { buildStatement, IN_TOTO_STATEMENT_V1 } from './predicate.js';
import type { RekorEntry } from './rekor.js';
import type { SigningIdentity } from './signer.js';

export interface ImageSigningOptions extends SigningContext {
  client: RegistryClient;
  /** -a key=value annotations, carried in the payload's `optional` section. */
  annotations?: Record<string, string>;
  /** false: sign and log but push nothing (cosign --upload=false). */
  upload?: boolean;
  /** Which layouts to write; both by default. */
  layouts?: { cosignTag?: boolean; referrer?: boolean };
  /**
   * cosign v3's --new-bundle-format: sign an in-toto statement about the digest (predicate type
   * https://sigstore.dev/cosign/sign/v1) in DSSE, attached as an OCI referrer bundle only. A Rekor v2 entry has no
   * signed entry timestamp for cosign's `.sig` tag annotation, so signing against a v2 log takes this form.
   */
  newBundleFormat?: boolean;
}

export interface ImageSignature {
  target: ImageTarget;
  payload: Buffer;
  signature: Buffer;
  bundle: Record<string, unknown>;
  entry?: RekorEntry;
  /** Where the signature was written. */
  cosignTag?: { tag: string; digest: string };
  referrer?: { digest: string };
}

function certificateFields(identity: SigningIdentity): Pick<CosignSignatureFields, 'certificate' | 'chain'> {
  const pems = identity.certificate?.chainPem;
  if (!pems) return {};
  return { certificate: pems[0], chain: pems.slice(1).join('') || undefined };
}

/** cosign's Rekor bundle annotation for the entry: its SET and what the SET signs. */
function rekorBundle(entry: RekorLogEntry) {
  const set = entry.verification?.signedEntryTimestamp;
  if (!set)
    throw new SignError(
      'LOG_ERROR',
      `log entry ${entry.logIndex} came back without a signed entry timestamp`,
    );
  return cosignRekorBundle(set, entry);
}

/** cosign v3 sign --new-bundle-format: a sign/v1 statement in DSSE, logged, attached as a referrer bundle. */
async function signImageBundle(target: ImageTarget, opts: ImageSigningOptions): Promise<ImageSignature> {
  const [alg, hex] = target.descriptor.digest.split(':');
  const annotations = opts.annotations && Object.keys(opts.annotations).length ? opts.annotations : undefined;
  const statement = {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ digest: { [alg]: hex }, ...(annotations ? { annotations } : {}) }],
    predicateType: COSIGN_SIGN_PREDICATE_TYPE,
    predicate: {},
  };
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const signed = await signDsse(IN_TOTO_PAYLOAD_TYPE, payload, opts);
  const result: ImageSignature = {
    target,
    payload,
    signature: Buffer.from(signed.envelope.signatures[0].sig, 'base64'),
    bundle: signed.bundle,
    entry: signed.entry,
  };
  if (opts.upload === false) return result;
  result.referrer = await pushAfterLogging(signed.entry, target, () =>
    attachBundleReferrer(opts.client, target.signatureRepo, target.descriptor, {
      bundleJson: Buffer.from(JSON.stringify(signed.bundle), 'utf8'),
      content: 'dsse-envelope',
      predicateType: COSIGN_SIGN_PREDICATE_TYPE,
    }),
  );
  return result;
}

/** cosign sign: one signature, one log entry, two layouts (or cosign v3's referrer bundle: newBundleFormat). */
export async function signImage(target: ImageTarget, opts: ImageSigningOptions): Promise<ImageSignature> {
  if (opts.newBundleFormat) return signImageBundle(target, opts);
  const payload = buildSimpleSigningPayload(
    repositoryName(target.ref),
    target.descriptor.digest,
    opts.annotations && Object.keys(opts.annotations).length ? opts.annotations : undefined,
  );
  const signed = await signBlob(payload, opts);
  const result: ImageSignature = {
    target,
    payload,
    signature: signed.signature,
    bundle: signed.bundle,
    entry: signed.entry,
  };
  if (opts.upload === false) return result;
  const layouts = { cosignTag: true, referrer: true, ...opts.layouts };
  const bundleJson = Buffer.from(JSON.stringify(signed.bundle), 'utf8');
  // One after the other: the first push gets the registry token the second reuses (a token request may cost a
  // password hash on the registry side).
  const [tagged, referred] = await pushAfterLogging(
    signed.entry,
    target,
    async () =>
      [
        await (layouts.cosignTag
          ? attachCosignLayer(opts.client, target.signatureRepo, target.descriptor, {
              payload,
              mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
              kind: 'sig',
              fields: {
                signature: signed.signature.toString('base64'),
                ...certificateFields(opts.identity),
                ...(signed.entry ? { bundle: rekorBundle(signed.entry) } : {}),
              },
            })
          : undefined),
        await (layouts.referrer
          ? attachBundleReferrer(opts.client, target.signatureRepo, target.descriptor, {
              bundleJson,
              content: 'message-signature',
              payload: { bytes: payload, mediaType: SIMPLE_SIGNING_MEDIA_TYPE },
            })
          : undefined),
      ] as const,
  );
  result.cosignTag = tagged;
  result.referrer = referred;
  return result;
}

export interface ImageAttestationOptions extends ImageSigningOptions {
  /** --type: cosign predicate name or URI. */
  predicateType: string;
  predicate: Uint8Array;
}

export interface ImageAttestation {
  target: ImageTarget;
  statement: Record<string, unknown>;
  bundle: Record<string, unknown>;
  entry?: RekorEntry;
  cosignTag?: { tag: string; digest: string };
  referrer?: { digest: string };
}

/** cosign attest: an in-toto statement about the image digest, in DSSE, logged, attached as `.att` and referrer. */
export async function attestImage(
  target: ImageTarget,
  opts: ImageAttestationOptions,
): Promise<ImageAttestation> {
  const [alg, hex] = target.descriptor.digest.split(':');
  if (alg !== 'sha256')
    throw new SignError('INPUT_ERROR', `attestations need a sha256 image digest, not ${alg}`);
  const statement = buildStatement({
    type: opts.predicateType,
    predicate: opts.predicate,
    subjectName: repositoryName(target.ref),
    sha256: hex,
  });
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const signed = await signDsse(IN_TOTO_PAYLOAD_TYPE, payload, opts);
  const result: ImageAttestation = { target, statement, bundle: signed.bundle, entry: signed.entry };
  if (opts.upload === false) return result;
  const layouts = { cosignTag: true, referrer: true, ...opts.layouts };
  const predicateType = statement.predicateType as string;
  const envelopeJson = Buffer.from(JSON.stringify(signed.envelope), 'utf8');
  // One after the other: the first push gets the registry token the second reuses (a token request may cost a
  // password hash on the registry side).
  const [tagged, referred] = await pushAfterLogging(
    signed.entry,
    target,
    async () =>
      [
        await (layouts.cosignTag
          ? attachCosignLayer(opts.client, target.signatureRepo, target.descriptor, {
              payload: envelopeJson,
              mediaType: DSSE_MEDIA_TYPE,
              kind: 'att',
              // ATTESTATION_SPEC.md: the signature lives in the envelope, so the annotation is empty.
              fields: {
                signature: '',
                ...certificateFields(opts.identity),
                ...(signed.entry ? { bundle: rekorBundle(signed.entry) } : {}),
              },
              extra: { [PREDICATE_TYPE_ANNOTATION]: predicateType },
            })
          : undefined),
        await (layouts.referrer
          ? attachBundleReferrer(opts.client, target.signatureRepo, target.descriptor, {
              bundleJson: Buffer.from(JSON.stringify(signed.bundle), 'utf8'),
              content: 'dsse-envelope',
              predicateType,
            })
          : undefined),
      ] as const,
  );
  result.cosignTag = tagged;
  result.referrer = referred;
  return result;
}

/**
 * Runs the registry pushes that follow a log entry. The entry is permanent, so when the registry then refuses the
 * signature the failure says that the log holds it, and at which index (SignError.logIndex), rather than leaving
 * an entry nobody knows about.
 */
async function pushAfterLogging<T>(
  entry: RekorEntry | undefined,
  target: ImageTarget,
  push: () => Promise<T>,
): Promise<T> {
  try {
    return await push();
  } catch (err) {
    if (!entry) throw err;
    const repo = `${target.signatureRepo.registry}/${target.signatureRepo.repository}`;
    throw new SignError(
      'REGISTRY_ERROR',
      `the transparency log accepted the signature (tlog entry index ${entry.logIndex}) but pushing it to ${repo} failed: ${(err as Error).message}`,
      { cause: err, logIndex: entry.logIndex },
    );
  }
}

/** sha256 of bytes as `sha256:<hex>`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
