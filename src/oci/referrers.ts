// Referrers without the referrers API: the tag schema of opencontainers/distribution-spec spec.md
// ("Referrers Tag Schema", "Pushing Manifests with Subject"). Pure functions; client.ts does the I/O.
import type { Descriptor, ImageIndex, ImageManifest } from '../formats/index.js';
import { isIndexMediaType, OCI_INDEX } from '../formats/index.js';

/**
 * `<alg>:<encoded>` → `<alg truncated to 32>-<encoded truncated to 64>`, with characters a tag may not hold
 * replaced by "-". For sha256 that is `sha256-<64 hex>` (cosign's `.sig` tag is this plus a suffix).
 */
export function referrersTag(digest: string): string {
  const idx = digest.indexOf(':');
  if (idx <= 0) throw new Error(`not a digest: "${digest}"`);
  const alg = digest.slice(0, idx).slice(0, 32);
  const encoded = digest.slice(idx + 1).slice(0, 64);
  return `${alg}-${encoded}`.replace(/[^A-Za-z0-9_.-]/g, '-');
}

/**
 * The descriptor a referrers list holds for a pushed manifest: artifactType from the manifest, or for an image
 * manifest without one its config media type; the manifest's annotations copied.
 */
export function referrerDescriptor(
  manifest: ImageManifest | ImageIndex,
  mediaType: string,
): Omit<Descriptor, 'digest' | 'size'> {
  const artifactType =
    manifest.artifactType ??
    (!isIndexMediaType(mediaType) ? (manifest as ImageManifest).config?.mediaType : undefined);
  return {
    mediaType,
    ...(artifactType ? { artifactType } : {}),
    ...(manifest.annotations && Object.keys(manifest.annotations).length
      ? { annotations: manifest.annotations }
      : {}),
  };
}

/** `index` with `descriptor` appended (a fresh index when undefined), or undefined when it is already listed. */
export function addReferrer(index: ImageIndex | undefined, descriptor: Descriptor): ImageIndex | undefined {
  const manifests = index?.manifests ?? [];
  if (manifests.some((d) => d.digest === descriptor.digest)) return undefined;
  return {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [...manifests, descriptor],
    ...(index?.annotations ? { annotations: index.annotations } : {}),
  };
}

export function filterByArtifactType(
  manifests: Descriptor[],
  artifactType: string | undefined,
): Descriptor[] {
  return artifactType ? manifests.filter((d) => d.artifactType === artifactType) : manifests;
}
