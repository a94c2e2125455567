// cosign's signature layout in an OCI registry: tag names, media types and layer annotation keys.
// Spec: sigstore/cosign specs/SIGNATURE_SPEC.md ("Storage" → "Tag-based Discovery", "Object Types" → annotations)
// and specs/ATTESTATION_SPEC.md; the key names are those cosign writes (pkg/oci/static), which the spec's prose
// mixes up (it names `dev.cosignproject.cosign/certificate` in the text but shows `dev.sigstore.cosign/...` in the
// example, and cosign itself writes the latter). Newer cosign also stores Sigstore bundles as OCI 1.1 referrers.

/** Layer annotation holding the base64 signature over the layer's payload. */
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** Layer annotation holding the PEM signing certificate (keyless). */
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
/** Layer annotation holding the PEM chain from the signing certificate's issuer up to the root. */
export const CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
/** Layer annotation holding the JSON Rekor bundle: {SignedEntryTimestamp, Payload{body,integratedTime,logIndex,logID}}. */
export const BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
/** Layer annotation holding {"SignedRFC3161Timestamp": base64} from a timestamp authority. */
export const RFC3161_TIMESTAMP_ANNOTATION = 'dev.sigstore.cosign/rfc3161timestamp';
/** Layer annotation on attestation layers naming the in-toto predicate type. */
export const PREDICATE_TYPE_ANNOTATION = 'predicateType';

/** Media type of a DSSE envelope layer in a `.att` manifest. */
export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';

/** Tag suffixes: `<alg>-<hex>.<suffix>` next to the signed image. */
export const SIGNATURE_TAG_SUFFIX = 'sig';
export const ATTESTATION_TAG_SUFFIX = 'att';

/** Sigstore bundle stored as an OCI 1.1 referrer (cosign ≥ 2.4 `--new-bundle-format`): artifactType and annotations. */
export const SIGSTORE_BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
export const BUNDLE_PREDICATE_TYPE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
/**
 * cosign v3 signs an image (in its default new bundle format) as a DSSE in-toto statement of this predicate type,
 * whose subject is the image digest, instead of a message signature over a simple-signing payload.
 */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';

/** The cosign bundle annotation's JSON shape (SIGNATURE_SPEC.md "bundle"). */
export interface CosignRekorBundle {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

/**
 * The tag cosign derives from a digest: `sha256:abc…` → `sha256-abc….sig` (":" replaced by "-", then the suffix).
 * Throws on anything that is not `alg:hex`, since a wrong tag would silently hide signatures.
 */
export function cosignTag(digest: string, suffix: string): string {
  const m = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-f0-9]{32,})$/.exec(digest);
  if (!m) throw new Error(`not a digest: "${digest}" (expected e.g. sha256:<64 hex>)`);
  return `${m[1]}-${m[2]}.${suffix}`;
}
