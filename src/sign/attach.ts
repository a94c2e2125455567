// Putting signatures next to an image, in both of the layouts clients look for:
// - cosign's tag layout (sigstore/cosign specs/SIGNATURE_SPEC.md "Storage"): one layer per signature in the
//   manifest tagged `sha256-<digest>.sig` (attestations `.att`), payload as the blob, signature, certificate, chain
//   and Rekor bundle (the SET) as layer annotations; skopeo and cosign 1/2 read this.
// - an OCI 1.1 referrer (specs/BUNDLE_SPEC.md): a manifest with artifactType
//   application/vnd.dev.sigstore.bundle.v0.3+json, the empty config, the bundle as its one layer and the image as
//   its subject; sigstore clients and cosign 3 read this. The referrers index is kept by the registry, or by the
//   client through the tag schema when the registry does not process `subject`.
import {
  BUNDLE_CONTENT_ANNOTATION,
  BUNDLE_PREDICATE_TYPE_ANNOTATION,
  SIGSTORE_BUNDLE_ARTIFACT_TYPE,
} from '../formats/index.js';
import {
  appendCosignLayer,
  type CosignKind,
  type CosignSignatureFields,
  cosignAnnotations,
  type Descriptor,
  digestOf,
  type ImageManifest,
  type ImageReference,
  OCI_EMPTY,
  OCI_EMPTY_DIGEST,
  OCI_MANIFEST,
  type RegistryClient,
} from '../oci/index.js';

export const OCI_CREATED_ANNOTATION = 'org.opencontainers.image.created';

export interface CosignLayerInput {
  payload: Buffer;
  mediaType: string;
  fields: CosignSignatureFields;
  /** Extra layer annotations (attestations carry `predicateType`). */
  extra?: Record<string, string>;
  kind: CosignKind;
}

/** Appends one signature layer to the `.sig` / `.att` manifest of `subject` in `repo`. */
export async function attachCosignLayer(
  client: RegistryClient,
  repo: ImageReference,
  subject: Descriptor,
  input: CosignLayerInput,
): Promise<{ tag: string; digest: string }> {
  const pushed = await appendCosignLayer(
    client,
    repo,
    subject.digest,
    {
      payload: input.payload,
      mediaType: input.mediaType,
      annotations: cosignAnnotations(input.fields, input.extra),
    },
    input.kind,
  );
  return { tag: pushed.tag, digest: pushed.digest };
}

export interface ReferrerInput {
  bundleJson: Buffer;
  /**
   * For a message signature: the signed payload, carried as a second layer. The bundle holds only its digest, and
   * a referrer must be verifiable on its own (without the `.sig` layout, e.g. after a copy that knows referrers
   * only). Readers that take the first layer as the bundle, as BUNDLE_SPEC.md describes, are unaffected.
   */
  payload?: { bytes: Buffer; mediaType: string };
  content: 'message-signature' | 'dsse-envelope';
  predicateType?: string;
  created?: Date;
}

/** The referrer manifest for a bundle about `subject` (BUNDLE_SPEC.md "Publishing", "Annotations"). */
export function bundleReferrerManifest(subject: Descriptor, input: ReferrerInput): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SIGSTORE_BUNDLE_ARTIFACT_TYPE,
    config: { mediaType: OCI_EMPTY, digest: OCI_EMPTY_DIGEST, size: 2 },
    layers: [
      {
        mediaType: SIGSTORE_BUNDLE_ARTIFACT_TYPE,
        digest: digestOf(input.bundleJson),
        size: input.bundleJson.length,
      },
      ...(input.payload
        ? [
            {
              mediaType: input.payload.mediaType,
              digest: digestOf(input.payload.bytes),
              size: input.payload.bytes.length,
            },
          ]
        : []),
    ],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: {
      [BUNDLE_CONTENT_ANNOTATION]: input.content,
      ...(input.predicateType ? { [BUNDLE_PREDICATE_TYPE_ANNOTATION]: input.predicateType } : {}),
      [OCI_CREATED_ANNOTATION]: (input.created ?? new Date()).toISOString(),
    },
  };
}

/** Uploads the bundle and the empty config, then pushes the referrer manifest by digest. */
export async function attachBundleReferrer(
  client: RegistryClient,
  repo: ImageReference,
  subject: Descriptor,
  input: ReferrerInput,
): Promise<{ digest: string }> {
  const empty = Buffer.from('{}');
  const blobs = [empty, input.bundleJson, ...(input.payload ? [input.payload.bytes] : [])];
  // Sequential: concurrent first pushes would each make the registry hash a password for a token.
  for (const blob of blobs) {
    await client.uploadBlob(repo, { digest: digestOf(blob), size: blob.length, open: () => blob });
  }
  const manifest = Buffer.from(JSON.stringify(bundleReferrerManifest(subject, input)), 'utf8');
  const digest = digestOf(manifest);
  await client.putManifest(
    { registry: repo.registry, repository: repo.repository, digest },
    manifest,
    OCI_MANIFEST,
  );
  return { digest };
}
