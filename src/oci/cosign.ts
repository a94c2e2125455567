// cosign's tag-based signature storage (sigstore/cosign specs/SIGNATURE_SPEC.md "Storage"): for an image digest
// `sha256:H`, signatures live in the manifest tagged `sha256-H.sig` (attestations `.att`) next to the image or in
// another repository, one layer per signature: the payload as the blob, the signature, certificate, chain and
// Rekor bundle as layer annotations. A new signature is appended to the existing manifest, never replacing it.
import {
  ATTESTATION_TAG_SUFFIX,
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  type CosignRekorBundle,
  cosignTag,
  type Descriptor,
  type ImageManifest,
  OCI_CONFIG,
  OCI_MANIFEST,
  RFC3161_TIMESTAMP_ANNOTATION,
  SIGNATURE_ANNOTATION,
  SIGNATURE_TAG_SUFFIX,
} from '../formats/index.js';
import type { PushedManifest, RegistryClient } from './client.js';
import { digestOf } from './digest.js';
import { OciError } from './errors.js';
import { type ImageReference, parseReference, repositoryName } from './reference.js';

export type CosignKind = 'sig' | 'att' | 'sbom';

/** An image as named, pinned to its manifest digest, and the repository its signatures live in. */
export interface ImageTarget {
  ref: ImageReference;
  /** Descriptor of the signed manifest. */
  descriptor: Descriptor;
  /** Where signatures go: the image's repository, or COSIGN_REPOSITORY. */
  signatureRepo: ImageReference;
}

/** Parses and resolves `image` (tag → digest, with the client's warning) and picks the signature repository. */
export async function resolveImage(
  client: RegistryClient,
  image: string,
  signatureRepository?: string,
): Promise<ImageTarget> {
  const ref = parseReference(image);
  const descriptor = await client.resolve(ref);
  return {
    ref: { ...ref, digest: descriptor.digest },
    descriptor,
    signatureRepo: signatureRepoOf(ref, signatureRepository),
  };
}

/** Where an image's signatures live: COSIGN_REPOSITORY's repository when given, else the image's own. */
export function signatureRepoOf(ref: ImageReference, signatureRepository?: string): ImageReference {
  const repo = signatureRepository ? parseReference(signatureRepository) : ref;
  return { registry: repo.registry, repository: repo.repository };
}

/** `sha256:H` → `sha256-H.sig`. */
export function signatureTag(digest: string): string {
  return cosignTag(digest, SIGNATURE_TAG_SUFFIX);
}

/** `sha256:H` → `sha256-H.att`. */
export function attestationTag(digest: string): string {
  return cosignTag(digest, ATTESTATION_TAG_SUFFIX);
}

/** The signature properties of SIGNATURE_SPEC.md, as carried by one layer. */
export interface CosignSignatureFields {
  /** base64 signature over the payload (may be empty for attestations, whose DSSE envelope holds it). */
  signature: string;
  certificate?: string;
  chain?: string;
  bundle?: CosignRekorBundle;
  rfc3161Timestamp?: string;
}

export interface CosignLayer extends CosignSignatureFields {
  /** The layer descriptor as found in the manifest. */
  descriptor: Descriptor;
  /** The payload bytes, verified against the descriptor's digest. */
  payload: Buffer;
  /** Raw annotations, including any beyond the ones parsed above. */
  annotations: Record<string, string>;
}

/** Layer annotations for a signature: only the fields that are set (cosign omits empty ones). */
export function cosignAnnotations(
  fields: CosignSignatureFields,
  extra: Record<string, string> = {},
): Record<string, string> {
  const a: Record<string, string> = { ...extra, [SIGNATURE_ANNOTATION]: fields.signature };
  if (fields.certificate) a[CERTIFICATE_ANNOTATION] = fields.certificate;
  if (fields.chain) a[CHAIN_ANNOTATION] = fields.chain;
  if (fields.bundle) a[BUNDLE_ANNOTATION] = JSON.stringify(fields.bundle);
  if (fields.rfc3161Timestamp) a[RFC3161_TIMESTAMP_ANNOTATION] = fields.rfc3161Timestamp;
  return a;
}

/** Reads the signature fields from a layer's annotations; a malformed bundle is an error, not ignored. */
export function parseCosignAnnotations(annotations: Record<string, string> = {}): CosignSignatureFields {
  const fields: CosignSignatureFields = { signature: annotations[SIGNATURE_ANNOTATION] ?? '' };
  if (annotations[CERTIFICATE_ANNOTATION]) fields.certificate = annotations[CERTIFICATE_ANNOTATION];
  if (annotations[CHAIN_ANNOTATION]) fields.chain = annotations[CHAIN_ANNOTATION];
  if (annotations[RFC3161_TIMESTAMP_ANNOTATION])
    fields.rfc3161Timestamp = annotations[RFC3161_TIMESTAMP_ANNOTATION];
  const bundle = annotations[BUNDLE_ANNOTATION];
  if (bundle) {
    let parsed: CosignRekorBundle;
    try {
      parsed = JSON.parse(bundle);
    } catch {
      throw new OciError('BAD_RESPONSE', `cosign bundle annotation is not JSON`);
    }
    if (typeof parsed?.SignedEntryTimestamp !== 'string' || typeof parsed?.Payload?.body !== 'string') {
      throw new OciError(
        'BAD_RESPONSE',
        `cosign bundle annotation lacks SignedEntryTimestamp or Payload.body`,
      );
    }
    fields.bundle = parsed;
  }
  return fields;
}

function kindTag(digest: string, kind: CosignKind): string {
  return cosignTag(digest, kind);
}

/**
 * The layers of the `.sig` (or `.att`) manifest for `subjectDigest` in `repo`, each with its payload fetched and
 * verified. Undefined when there is no such tag.
 */
export async function readCosignLayers(
  client: RegistryClient,
  repo: ImageReference,
  subjectDigest: string,
  kind: CosignKind = 'sig',
): Promise<{ manifestDigest: string; manifest: ImageManifest; layers: CosignLayer[] } | undefined> {
  const tagRef = { registry: repo.registry, repository: repo.repository, tag: kindTag(subjectDigest, kind) };
  let fetched: Awaited<ReturnType<RegistryClient['getManifest']>>;
  try {
    fetched = await client.getManifest(tagRef);
  } catch (err) {
    if (err instanceof OciError && err.code === 'NOT_FOUND') return undefined;
    throw err;
  }
  const manifest = fetched.json as ImageManifest;
  if (!Array.isArray(manifest.layers)) {
    throw new OciError('BAD_RESPONSE', `${repositoryName(repo)}:${tagRef.tag} is not an image manifest`);
  }
  const layers: CosignLayer[] = [];
  for (const descriptor of manifest.layers) {
    const payload = await client.getBlobBytes(repo, descriptor.digest);
    if (payload.length !== descriptor.size) {
      throw new OciError(
        'DIGEST_MISMATCH',
        `signature payload ${descriptor.digest}: size ${payload.length} ≠ ${descriptor.size}`,
      );
    }
    const annotations = descriptor.annotations ?? {};
    layers.push({ descriptor, payload, annotations, ...parseCosignAnnotations(annotations) });
  }
  return { manifestDigest: fetched.digest, manifest, layers };
}

/** The image config of a signature manifest: an empty image whose rootfs lists the payload layers. */
export function cosignConfig(layers: Descriptor[]): Buffer {
  const created = '0001-01-01T00:00:00Z';
  return Buffer.from(
    JSON.stringify({
      architecture: '',
      created,
      history: layers.map(() => ({ created })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
}

export interface NewCosignLayer {
  payload: Buffer;
  /** Layer media type: simple-signing for `.sig`, DSSE for `.att`. */
  mediaType: string;
  annotations: Record<string, string>;
}

function sameAnnotations(a: Record<string, string> = {}, b: Record<string, string> = {}): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/**
 * Appends a signature (or attestation) layer to the `.sig` (`.att`) manifest of `subjectDigest` in `repo`,
 * creating it when absent. A layer identical to one already there (same payload and annotations) is not added
 * twice. Uploads the payload and the new config, then pushes the manifest under the tag.
 */
export async function appendCosignLayer(
  client: RegistryClient,
  repo: ImageReference,
  subjectDigest: string,
  layer: NewCosignLayer,
  kind: CosignKind = 'sig',
): Promise<PushedManifest & { tag: string; appended: boolean }> {
  const tag = kindTag(subjectDigest, kind);
  const tagRef = { registry: repo.registry, repository: repo.repository, tag };
  let existing: ImageManifest | undefined;
  let current: { digest: string; size: number; mediaType: string } | undefined;
  try {
    const fetched = await client.getManifest(tagRef);
    existing = fetched.json as ImageManifest;
    current = { digest: fetched.digest, size: fetched.bytes.length, mediaType: fetched.mediaType };
    if (!Array.isArray(existing.layers)) {
      throw new OciError(
        'BAD_RESPONSE',
        `${repositoryName(repo)}:${tag} is not an image manifest; left unchanged`,
      );
    }
  } catch (err) {
    if (!(err instanceof OciError && err.code === 'NOT_FOUND')) throw err;
  }
  const payloadDigest = digestOf(layer.payload);
  const descriptor: Descriptor = {
    mediaType: layer.mediaType,
    size: layer.payload.length,
    digest: payloadDigest,
    annotations: layer.annotations,
  };
  const layers = existing?.layers ?? [];
  if (layers.some((l) => l.digest === payloadDigest && sameAnnotations(l.annotations, layer.annotations))) {
    return { ...current!, tag, appended: false };
  }
  const newLayers = [...layers, descriptor];
  const config = cosignConfig(newLayers);
  await client.uploadBlob(repo, {
    digest: payloadDigest,
    size: layer.payload.length,
    open: () => layer.payload,
  });
  const configDigest = digestOf(config);
  await client.uploadBlob(repo, { digest: configDigest, size: config.length, open: () => config });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, size: config.length, digest: configDigest },
    layers: newLayers,
    ...(existing?.annotations ? { annotations: existing.annotations } : {}),
  };
  const pushed = await client.putManifest(tagRef, manifest);
  return { ...pushed, tag, appended: true };
}
