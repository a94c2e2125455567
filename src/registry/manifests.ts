// Parsing and validating pushed manifests: the media types the registry accepts (OCI image manifest and index,
// Docker schema2 manifest and manifest list), descriptor shape (image-spec descriptor.md), and what a manifest
// points at: blobs (config, layers), child manifests (index entries) and its `subject` (image-spec manifest.md,
// image-index.md; distribution-spec "Pushing Manifests with Subject"). Pure functions, no I/O.
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../formats/index.js';
import { RegistryError } from './errors.js';
import { parseDigest } from './names.js';

export { DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST };
export const DOCKER_LIST = DOCKER_MANIFEST_LIST;

/** distribution-spec: registries should accept manifests of at least 4 MB; larger ones get 413. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const IMAGE_TYPES = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_LIST]);
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_LIST,
];

/** Layer types a registry is not given (image-spec layer.md "non-distributable", Docker foreign layers). */
const FOREIGN_LAYER_TYPES = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  /** Blobs that must exist in the repository (config and distributable layers). */
  blobs: string[];
  /** Manifests that must exist in the repository (index entries). */
  manifests: string[];
  subject?: Descriptor;
  /** The referrers-API artifactType: the manifest's own, else (image manifests only) the config's media type. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Strips parameters and case from a Content-Type header value. */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message, detail);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseAnnotations(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid(`${where}.annotations must map strings to strings`);
  }
  return value as Record<string, string>;
}

/** image-spec schema/defs-descriptor.json `mediaType` pattern (RFC 6838 §4.2 restricted names). */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** Validates one descriptor (image-spec descriptor.md "Properties"). */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size, artifactType, urls } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw invalid(`${where}.mediaType must be a string`);
  // Media types are served back to clients (referrers, artifactType): control characters, spaces or
  // non-ASCII in one are refused, not stored.
  if (!MEDIA_TYPE.test(mediaType))
    throw invalid(`${where}.mediaType is not a media type (RFC 6838 type/subtype)`, {
      mediaType: mediaType.slice(0, 300),
    });
  if (typeof digest !== 'string') throw invalid(`${where}.digest must be a string`);
  try {
    parseDigest(digest);
  } catch (err) {
    throw invalid(`${where}.digest: ${(err as Error).message}`, { digest });
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${where}.size must be a non-negative integer`);
  }
  if (artifactType !== undefined && (typeof artifactType !== 'string' || !MEDIA_TYPE.test(artifactType))) {
    throw invalid(`${where}.artifactType must be a media type (RFC 6838 type/subtype)`);
  }
  if (urls !== undefined && (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string'))) {
    throw invalid(`${where}.urls must be an array of strings`);
  }
  const out: Descriptor = { mediaType, digest, size };
  if (artifactType !== undefined) out.artifactType = artifactType;
  const annotations = parseAnnotations(value.annotations, where);
  if (annotations) out.annotations = annotations;
  if (urls !== undefined) out.urls = urls as string[];
  return out;
}

/**
 * Decides the manifest's media type from the request's Content-Type and the body's `mediaType`. When the body has
 * one, the Content-Type must be exactly it (spec "Pushing Manifests": "If a manifest includes a mediaType field,
 * clients MUST set the Content-Type header to the value specified by the mediaType field"); a generic type such as
 * application/json is a mismatch too, since the manifest is later served under its stored type and clients are told
 * to reject a body whose mediaType differs from the Content-Type ("Pulling manifests"). Without one, the
 * Content-Type alone says what the manifest is.
 */
function resolveMediaType(contentType: string, bodyType: unknown): string {
  if (bodyType !== undefined && typeof bodyType !== 'string') throw invalid('mediaType must be a string');
  if (bodyType !== undefined && bodyType !== contentType) {
    throw invalid(`Content-Type does not match the manifest mediaType "${bodyType}"`, {
      contentType,
      mediaType: bodyType,
    });
  }
  const type = (bodyType as string | undefined) ?? contentType;
  if (!type) throw invalid('manifest media type unknown: set Content-Type or mediaType');
  if (!IMAGE_TYPES.has(type) && !INDEX_TYPES.has(type)) {
    throw invalid(`unsupported manifest media type "${type}"`, {
      mediaType: type,
      supported: MANIFEST_MEDIA_TYPES,
    });
  }
  return type;
}

/** Parses and validates manifest bytes as pushed with the given Content-Type. */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!isObject(doc)) throw invalid('manifest must be a JSON object');
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2', { schemaVersion: doc.schemaVersion });
  const mediaType = resolveMediaType(bareMediaType(contentType), doc.mediaType);
  const subject = doc.subject === undefined ? undefined : parseDescriptor(doc.subject, 'subject');
  const annotations = parseAnnotations(doc.annotations, 'manifest');
  if (doc.artifactType !== undefined && typeof doc.artifactType !== 'string') {
    throw invalid('artifactType must be a string');
  }
  const ownArtifactType = (doc.artifactType as string | undefined) || undefined;

  if (IMAGE_TYPES.has(mediaType)) {
    const config = parseDescriptor(doc.config, 'config');
    if (!Array.isArray(doc.layers)) throw invalid('layers must be an array');
    const layers = doc.layers.map((l, i) => parseDescriptor(l, `layers[${i}]`));
    const blobs = [config.digest];
    for (const layer of layers) {
      // Foreign layers live at their `urls`, never in this registry (image-spec layer.md).
      if (FOREIGN_LAYER_TYPES.has(layer.mediaType) && layer.urls?.length) continue;
      blobs.push(layer.digest);
    }
    return {
      mediaType,
      blobs: [...new Set(blobs)],
      manifests: [],
      subject,
      artifactType: ownArtifactType ?? config.mediaType,
      annotations,
    };
  }
  if (!Array.isArray(doc.manifests)) throw invalid('manifests must be an array');
  const children = doc.manifests.map((m, i) => parseDescriptor(m, `manifests[${i}]`));
  return {
    mediaType,
    blobs: [],
    manifests: [...new Set(children.map((c) => c.digest))],
    subject,
    artifactType: ownArtifactType,
    annotations,
  };
}
