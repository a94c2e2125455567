// Pushes a built image: every blob (layers, then config) and then the manifest under the reference's tag, as
// distribution-spec requires (a registry MAY reject a manifest whose blobs it does not have).
import {
  type ImageReference,
  OCI_MANIFEST,
  type RegistryClient,
  repositoryName,
  type UploadOutcome,
} from '../oci/index.js';
import type { BuiltImage } from './build.js';

export interface PushProgress {
  digest: string;
  sent: number;
  total: number;
}

export interface PushOptions {
  onProgress?: (p: PushProgress) => void;
  /** Repository on the same registry to try mounting blobs from. */
  mountFrom?: string;
}

export interface PushResult {
  digest: string;
  /** `registry/repo:tag@sha256:…` */
  reference: string;
  blobs: { digest: string; outcome: UploadOutcome }[];
}

export async function pushImage(
  client: RegistryClient,
  image: BuiltImage,
  ref: ImageReference,
  options: PushOptions = {},
): Promise<PushResult> {
  const blobs: PushResult['blobs'] = [];
  for (const blob of image.blobs) {
    const outcome = await client.uploadBlob(ref, blob, {
      mountFrom: options.mountFrom,
      onProgress: (sent, total) => options.onProgress?.({ digest: blob.digest, sent, total }),
    });
    blobs.push({ digest: blob.digest, outcome });
  }
  const target = ref.tag ? ref : { ...ref, digest: image.manifestDigest };
  const pushed = await client.putManifest(target, image.manifest, OCI_MANIFEST);
  const tagged = ref.tag ? `${repositoryName(ref)}:${ref.tag}` : repositoryName(ref);
  return { digest: pushed.digest, reference: `${tagged}@${pushed.digest}`, blobs };
}
