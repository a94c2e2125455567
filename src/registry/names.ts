// The grammar of repository names, tags, digests and upload ids (distribution-spec `spec.md`, "Pulling
// manifests"; image-spec `descriptor.md`, "Digests"). Every path component the registry touches passes through
// here first, so nothing a client sends can name a file outside the data dir: names never reach the file system,
// and digests do only as validated lowercase hex.
import { RegistryError } from './errors.js';

/** distribution-spec: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*` */
const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** distribution-spec: tags are `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`. */
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** image-spec descriptor.md: `algorithm ":" encoded`, with registered algorithms' encodings below. */
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const UPLOAD_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Clients commonly cap `host/name` at 255 characters (spec implementer note); the registry refuses longer names
 * so every stored name stays pullable.
 */
export const MAX_NAME_LENGTH = 255;

/** The digest algorithms this registry computes (node:crypto names equal the OCI names). */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** `algorithm:hex` */
  digest: string;
}

export function assertName(name: string): string {
  if (name.length > MAX_NAME_LENGTH) {
    throw new RegistryError('NAME_INVALID', `repository name longer than ${MAX_NAME_LENGTH} characters`, {
      name: name.slice(0, 64),
      limit: MAX_NAME_LENGTH,
    });
  }
  if (!NAME_RE.test(name)) {
    throw new RegistryError(
      'NAME_INVALID',
      'invalid repository name: lowercase components separated by "/"',
      {
        name,
      },
    );
  }
  return name;
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function assertTag(tag: string): string {
  if (!TAG_RE.test(tag)) {
    // The spec's code list has no tag code (docker's TAG_INVALID is legacy and optional): a malformed reference
    // makes the manifest request invalid.
    throw new RegistryError('MANIFEST_INVALID', 'invalid tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}', {
      tag: tag.slice(0, 200),
    });
  }
  return tag;
}

/** Parses a digest this registry can verify; anything else is DIGEST_INVALID (400, spec "Pushing blobs"). */
export function parseDigest(value: string): ParsedDigest {
  if (!DIGEST_RE.test(value))
    throw new RegistryError('DIGEST_INVALID', 'malformed digest', { digest: value });
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (!Object.hasOwn(DIGEST_ALGORITHMS, algorithm)) {
    throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm "${algorithm}"`, {
      digest: value,
      supported: Object.keys(DIGEST_ALGORITHMS),
    });
  }
  const length = DIGEST_ALGORITHMS[algorithm as DigestAlgorithm];
  if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
    throw new RegistryError('DIGEST_INVALID', `${algorithm} digests are ${length} lowercase hex characters`, {
      digest: value,
    });
  }
  return { algorithm: algorithm as DigestAlgorithm, hex, digest: value };
}

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return Object.hasOwn(DIGEST_ALGORITHMS, value);
}

/** A manifest reference is a digest when it contains ":" (tags cannot), else a tag. */
export type Reference = { kind: 'digest'; digest: ParsedDigest } | { kind: 'tag'; tag: string };

export function parseReference(value: string): Reference {
  if (value.includes(':')) return { kind: 'digest', digest: parseDigest(value) };
  return { kind: 'tag', tag: assertTag(value) };
}

export function assertUploadId(id: string): string {
  if (!UPLOAD_ID_RE.test(id)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'unknown upload id', { id });
  return id;
}
