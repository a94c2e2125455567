// Verifying an image's signatures offline, from either registry layout: the `.sig` / `.att` layers of cosign's
// tag layout (their annotations rebuilt into a bundle: certificate, SET from the Rekor bundle annotation, the
// payload's signature) and the Sigstore bundles attached as OCI referrers. Each candidate goes through the
// verifier core (src/verify: chain, SCT, identity, signature, log evidence), then the image-specific rule: the
// signed payload names this very manifest digest (simple-signing critical.image, or an in-toto subject).
// The registry is the only thing contacted; trust comes from trusted_root.json.
import { createHash, createPublicKey, type KeyObject, verify as verifySig } from 'node:crypto';
import {
  BUNDLE_CONTENT_ANNOTATION,
  BUNDLE_PREDICATE_TYPE_ANNOTATION,
  type Bundle,
  COSIGN_SIGN_PREDICATE_TYPE,
  type CosignRekorBundle,
  cosignRekorBundle,
  type DsseEnvelope,
  parseBundle,
  parseInTotoStatement,
  parseSimpleSigningPayload,
  pemToDer,
  preAuthEncoding,
  SIGSTORE_BUNDLE_ARTIFACT_TYPE,
  type TransparencyLogEntry,
  tlogEntryFromRekorBundle,
} from '../formats/index.js';
import {
  type CosignLayer,
  type ImageManifest,
  type ImageTarget,
  OciError,
  type RegistryClient,
  readCosignLayers,
  repositoryName,
} from '../oci/index.js';
import { fail, VerificationError } from './errors.js';
import type { VerificationPolicy } from './policy.js';
import type { TrustMaterial } from './trust-material.js';
import { type VerificationResult, verifyBundle } from './verifier.js';

export type SignatureLayout = 'cosign-tag' | 'referrer';

export interface Candidate {
  layout: SignatureLayout;
  /** Where it was found, for messages: `repo:sha256-….sig layer 0` or `repo@sha256:… (referrer)`. */
  where: string;
  /** Built eagerly; a candidate that cannot even be read carries its error instead. */
  bundle?: Bundle;
  /** The signed payload: simple-signing JSON, or the DSSE payload. */
  payload?: Buffer;
  /** cosign's Rekor bundle annotation (SET + entry), or the same made from a referrer's first log entry. */
  rekorBundle?: CosignRekorBundle;
  predicateType?: string;
  error?: Error;
}

export interface VerifiedSignature {
  candidate: Candidate & { bundle: Bundle; payload: Buffer };
  result: VerificationResult;
}

/**
 * What verifying needs of an image: its reference, its manifest digest and where its signatures live. An
 * ImageTarget is one; so is a reference pinned by digest before the registry has confirmed it (see the CLI's
 * verify, which checks the manifest exists alongside the signature lookups instead of before them).
 */
export type PinnedImage = Pick<ImageTarget, 'ref' | 'signatureRepo'> & { descriptor: { digest: string } };

export interface ImageVerification {
  target: PinnedImage;
  verified: VerifiedSignature[];
  failures: { where: string; error: Error }[];
}

export interface ImageVerifyOptions {
  client: RegistryClient;
  /** May still be loading: it is needed only once the signatures have been fetched. */
  trust: TrustMaterial | Promise<TrustMaterial>;
  policy: VerificationPolicy;
  /** Signatures (`sig`, cosign verify) or attestations (`att`, cosign verify-attestation). */
  kind?: 'sig' | 'att';
  /** verify-attestation --type: only attestations of this predicate type. */
  predicateType?: string;
  /** --insecure-ignore-tlog (key-based only): accept signatures without log evidence. */
  insecureIgnoreTlog?: boolean;
}

/** Raised when no signature verifies; `failures` holds each candidate's own reason. */
export class ImageVerificationError extends Error {
  constructor(
    message: string,
    readonly failures: { where: string; error: Error }[],
    readonly code: string,
  ) {
    super(message);
    this.name = 'ImageVerificationError';
  }
}

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

/** A `.sig` / `.att` layer as a (v0.1-shaped) bundle: what cosign's annotations say, typed. */
export function bundleFromCosignLayer(layer: CosignLayer, kind: 'sig' | 'att'): Bundle {
  const certs = layer.certificate ? pemToDer(layer.certificate) : [];
  if (layer.certificate && certs.length === 0)
    fail('BUNDLE_INVALID', 'the certificate annotation holds no PEM certificate');
  let tlogEntries: TransparencyLogEntry[] = [];
  try {
    tlogEntries = layer.bundle ? [tlogEntryFromRekorBundle(layer.bundle)] : [];
  } catch (err) {
    fail('BUNDLE_INVALID', `the Rekor bundle annotation: ${(err as Error).message}`, err);
  }
  let content: Bundle['content'];
  if (kind === 'sig') {
    if (!layer.signature) fail('BUNDLE_INVALID', 'the layer has no signature annotation');
    content = {
      kind: 'messageSignature',
      messageDigest: { algorithm: 'SHA2_256', digest: sha256(layer.payload) },
      signature: Buffer.from(layer.signature, 'base64'),
    };
  } else {
    content = { kind: 'dsseEnvelope', envelope: parseEnvelope(layer.payload) };
  }
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    version: '0.1',
    verificationMaterial: {
      content: certs.length
        ? { kind: 'certificate', certificate: certs[0] }
        : { kind: 'publicKey', hint: '' },
      tlogEntries,
      rfc3161Timestamps: [],
    },
    content,
  };
}

function parseEnvelope(bytes: Buffer): DsseEnvelope {
  let j: { payloadType?: unknown; payload?: unknown; signatures?: { keyid?: unknown; sig?: unknown }[] };
  try {
    j = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail('BUNDLE_INVALID', 'the attestation layer is not a JSON DSSE envelope');
  }
  if (typeof j.payloadType !== 'string' || typeof j.payload !== 'string' || !Array.isArray(j.signatures)) {
    fail('BUNDLE_INVALID', 'the attestation layer lacks payloadType, payload or signatures');
  }
  if (j.signatures.length !== 1)
    fail('BUNDLE_INVALID', `the DSSE envelope has ${j.signatures.length} signatures, 1 expected`);
  return {
    payloadType: j.payloadType,
    payload: Buffer.from(j.payload, 'base64'),
    signatures: j.signatures.map((s) => ({
      keyid: typeof s.keyid === 'string' ? s.keyid : '',
      sig: Buffer.from(String(s.sig ?? ''), 'base64'),
    })),
  };
}

async function cosignTagCandidates(
  client: RegistryClient,
  target: PinnedImage,
  kind: 'sig' | 'att',
): Promise<Candidate[]> {
  const found = await readCosignLayers(client, target.signatureRepo, target.descriptor.digest, kind);
  if (!found) return [];
  const tag = `${repositoryName(target.signatureRepo)}:${target.descriptor.digest.replace(':', '-')}.${kind}`;
  return found.layers.map((layer, i) => {
    const where = `${tag} layer ${i}`;
    try {
      const bundle = bundleFromCosignLayer(layer, kind);
      const payload =
        bundle.content.kind === 'dsseEnvelope' ? bundle.content.envelope.payload : layer.payload;
      return {
        layout: 'cosign-tag' as const,
        where,
        bundle,
        payload,
        rekorBundle: layer.bundle,
        predicateType: layer.annotations.predicateType,
      };
    } catch (err) {
      return { layout: 'cosign-tag' as const, where, error: err as Error };
    }
  });
}

async function referrerCandidates(
  client: RegistryClient,
  target: PinnedImage,
  kind: 'sig' | 'att',
): Promise<Candidate[]> {
  const repo = target.signatureRepo;
  let list: Awaited<ReturnType<RegistryClient['referrers']>>;
  try {
    list = await client.referrers(
      { ...repo, digest: target.descriptor.digest },
      SIGSTORE_BUNDLE_ARTIFACT_TYPE,
    );
  } catch (err) {
    if (err instanceof OciError && err.code === 'NOT_FOUND') return [];
    throw err;
  }
  const out: Candidate[] = [];
  for (const d of list.manifests) {
    // Annotations let a referrer of the other kind be skipped unread; an unannotated one is judged by its content.
    const annotated = referrerKind(
      d.annotations?.[BUNDLE_CONTENT_ANNOTATION],
      d.annotations?.[BUNDLE_PREDICATE_TYPE_ANNOTATION],
    );
    if (annotated && annotated !== kind) continue;
    const where = `${repositoryName(repo)}@${d.digest} (referrer)`;
    try {
      const m = await client.getManifest({ ...repo, digest: d.digest });
      const layer = (m.json as ImageManifest).layers?.[0];
      if (!layer || layer.mediaType !== SIGSTORE_BUNDLE_ARTIFACT_TYPE) {
        throw new VerificationError('BUNDLE_INVALID', 'the referrer does not hold a Sigstore bundle layer');
      }
      const bundle = parseBundle(await client.getBlobBytes(repo, layer.digest));
      const statementType =
        bundle.content.kind === 'dsseEnvelope'
          ? parseInTotoStatement(bundle.content.envelope.payload).predicateType
          : undefined;
      if (
        referrerKind(
          bundle.content.kind === 'dsseEnvelope' ? 'dsse-envelope' : 'message-signature',
          statementType,
        ) !== kind
      )
        continue;
      let payload: Buffer;
      if (bundle.content.kind === 'dsseEnvelope') {
        payload = bundle.content.envelope.payload;
      } else {
        // A message signature carries only the payload's digest. sigil puts the payload in the referrer as a
        // second layer; otherwise it is the `.sig` layer blob stored in the same repository under that digest.
        const md = bundle.content.messageDigest;
        if (md?.algorithm !== 'SHA2_256')
          throw new VerificationError('BUNDLE_INVALID', 'the bundle has no SHA-256 message digest');
        const payloadDigest = `sha256:${md.digest.toString('hex')}`;
        const layers = (m.json as ImageManifest).layers;
        const inReferrer = layers.slice(1).some((l) => l.digest === payloadDigest);
        payload = await client.getBlobBytes(repo, payloadDigest).catch((err) => {
          throw new VerificationError(
            'ARTIFACT_MISSING',
            `the signed payload ${payloadDigest} is ${inReferrer ? 'listed in the referrer but missing from' : 'neither in the referrer nor in'} ${repositoryName(repo)}: ${(err as Error).message}`,
          );
        });
      }
      const entry = bundle.verificationMaterial.tlogEntries[0];
      out.push({
        layout: 'referrer',
        where,
        bundle,
        payload,
        rekorBundle: entry?.signedEntryTimestamp
          ? cosignRekorBundle(entry.signedEntryTimestamp.toString('base64'), {
              body: entry.canonicalizedBody.toString('base64'),
              integratedTime: entry.integratedTime,
              logIndex: entry.logIndex,
              logID: entry.logId.toString('hex'),
            })
          : undefined,
        predicateType: d.annotations?.[BUNDLE_PREDICATE_TYPE_ANNOTATION],
      });
    } catch (err) {
      out.push({ layout: 'referrer', where, error: err as Error });
    }
  }
  return out;
}

/**
 * Whether a referrer's bundle is an image signature or an attestation: a message signature, or (cosign v3) a DSSE
 * statement of cosign's sign predicate, is a signature; any other DSSE statement is an attestation.
 */
function referrerKind(
  content: string | undefined,
  predicateType: string | undefined,
): 'sig' | 'att' | undefined {
  if (content === 'message-signature') return 'sig';
  if (content === 'dsse-envelope') return predicateType === COSIGN_SIGN_PREDICATE_TYPE ? 'sig' : 'att';
  return undefined;
}

/**
 * The client, fetching each small blob once: an image signed in both layouts names the same payload from its
 * `.sig` layer and from its referrer bundle, and that second fetch would be the last round trip of a verify.
 * Blobs are content-addressed and checked against their digest, so the copy is the same bytes.
 */
function blobsFetchedOnce(client: RegistryClient): RegistryClient {
  const fetched = new Map<string, Promise<Buffer>>();
  const once: Pick<RegistryClient, 'getBlobBytes'> = {
    getBlobBytes(ref, digest, maxBytes) {
      const key = `${repositoryName(ref)}@${digest}`;
      let blob = fetched.get(key);
      if (!blob) {
        blob = client.getBlobBytes(ref, digest, maxBytes);
        fetched.set(key, blob);
      }
      return blob;
    },
  };
  return Object.assign(Object.create(client), once);
}

/** Both layouts' candidates for the image. */
export async function findSignatures(
  client: RegistryClient,
  target: PinnedImage,
  kind: 'sig' | 'att',
): Promise<Candidate[]> {
  const [tagged, referred] = await Promise.all([
    cosignTagCandidates(client, target, kind),
    referrerCandidates(client, target, kind),
  ]);
  return [...tagged, ...referred];
}

/** The image-specific rule: the signed payload is about this manifest digest. */
function checkPayloadNamesImage(c: Candidate & { bundle: Bundle; payload: Buffer }, digest: string): void {
  if (c.bundle.content.kind === 'messageSignature') {
    let payload: ReturnType<typeof parseSimpleSigningPayload>;
    try {
      payload = parseSimpleSigningPayload(c.payload);
    } catch (err) {
      fail('BUNDLE_INVALID', (err as Error).message, err);
    }
    const signed = payload.critical.image['docker-manifest-digest'];
    if (signed !== digest) fail('DIGEST_MISMATCH', `the signature is for image ${signed}, not ${digest}`);
    return;
  }
  let statement: ReturnType<typeof parseInTotoStatement>;
  try {
    statement = parseInTotoStatement(c.payload);
  } catch (err) {
    fail('SUBJECT_MISMATCH', (err as Error).message, err);
  }
  const [alg, hex] = digest.split(':');
  if (!statement.subject.some((s) => s.digest[alg]?.toLowerCase() === hex)) {
    fail('SUBJECT_MISMATCH', `image ${digest} is not a subject of the attestation`);
  }
}

/** Key-based with --insecure-ignore-tlog: only the signature over the payload with the given key. */
function verifyKeyOnly(
  c: Candidate & { bundle: Bundle; payload: Buffer },
  key: KeyObject,
): VerificationResult {
  const content = c.bundle.content;
  const [data, sig] =
    content.kind === 'messageSignature'
      ? [c.payload, content.signature]
      : [
          preAuthEncoding(content.envelope.payloadType, content.envelope.payload),
          content.envelope.signatures[0].sig,
        ];
  let ok = false;
  try {
    ok = verifySig(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key, sig);
  } catch {
    ok = false;
  }
  if (!ok) fail('SIGNATURE_INVALID', 'the signature does not verify with the given public key');
  return {
    bundleVersion: c.bundle.version,
    checks: ['signature', 'public-key'],
    signer: { publicKey: key },
    signingTimes: [],
    tlogEntries: [],
  };
}

function toKey(k: KeyObject | string): KeyObject {
  return typeof k === 'string' ? createPublicKey(k) : k;
}

/** Verifies every signature of the image; throws ImageVerificationError unless at least one verifies. */
export async function verifyImage(target: PinnedImage, opts: ImageVerifyOptions): Promise<ImageVerification> {
  const kind = opts.kind ?? 'sig';
  const candidates = await findSignatures(blobsFetchedOnce(opts.client), target, kind);
  const trust = await opts.trust;
  const verified: VerifiedSignature[] = [];
  const failures: { where: string; error: Error }[] = [];
  for (const c of candidates) {
    if (c.error || !c.bundle || !c.payload) {
      failures.push({ where: c.where, error: c.error ?? new Error('unreadable signature') });
      continue;
    }
    const ready = c as Candidate & { bundle: Bundle; payload: Buffer };
    try {
      if (opts.predicateType && kind === 'att') {
        const statement = parseInTotoStatement(ready.payload);
        if (statement.predicateType !== opts.predicateType) {
          fail('SUBJECT_MISMATCH', `predicate type is ${statement.predicateType}, not ${opts.predicateType}`);
        }
      }
      checkPayloadNamesImage(ready, target.descriptor.digest);
      // As cosign: with a key and --insecure-ignore-tlog, log entries are neither required nor looked at.
      const keyOnly = opts.insecureIgnoreTlog && opts.policy.publicKey;
      const result = keyOnly
        ? verifyKeyOnly(ready, toKey(opts.policy.publicKey!))
        : verifyBundle(
            ready.bundle,
            // A DSSE statement (an attestation, or cosign v3's signature) is checked against its subject.
            ready.bundle.content.kind === 'messageSignature'
              ? ready.payload
              : { digest: Buffer.from(target.descriptor.digest.split(':')[1], 'hex') },
            opts.policy,
            trust,
          );
      verified.push({ candidate: ready, result });
    } catch (err) {
      failures.push({ where: c.where, error: err as Error });
    }
  }
  if (verified.length === 0) {
    const name = `${repositoryName(target.ref)}@${target.descriptor.digest}`;
    if (candidates.length === 0) {
      throw new ImageVerificationError(
        `no ${kind === 'sig' ? 'signatures' : 'attestations'} found for ${name}`,
        [],
        'NO_SIGNATURES',
      );
    }
    const reasons = [...new Set(failures.map((f) => f.error.message))];
    const first = failures[0]?.error as { code?: string } | undefined;
    throw new ImageVerificationError(
      `no valid ${kind === 'sig' ? 'signature' : 'attestation'} for ${name}: ${reasons.join('; ')}`,
      failures,
      first?.code ?? 'VERIFICATION_FAILED',
    );
  }
  return { target, verified, failures };
}
