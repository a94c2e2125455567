// cosign's own signature files, older than Sigstore bundles: the Rekor bundle (`{SignedEntryTimestamp, Payload:
// {body, integratedTime, logIndex, logID}}`, sigstore/cosign pkg/cosign/bundle/rekor.go) that cosign puts in the
// `dev.sigstore.cosign/bundle` annotation, and the blob bundle file `cosign sign-blob --bundle` writes without
// --new-bundle-format (`{base64Signature, cert, rekorBundle}`, pkg/cosign/bundle LocalSignedPayload, cert being the
// base64 of a PEM certificate). Both read as a v0.1-shaped Sigstore bundle, whose SET is its proof of inclusion.
import {
  type Bundle,
  BundleFormatError,
  bundleJson,
  parseBundle,
  type TransparencyLogEntry,
} from './bundle.js';
import type { CosignRekorBundle } from './cosign-annotations.js';
import type { SetPayload } from './set-payload.js';
import { pemToDer } from './x509.js';

const V01_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.1';

/** The Rekor bundle annotation for a SET (base64) and what it signs, in cosign's field order. */
export function cosignRekorBundle(set: string, p: SetPayload): CosignRekorBundle {
  return {
    SignedEntryTimestamp: set,
    Payload: { body: p.body, integratedTime: p.integratedTime, logIndex: p.logIndex, logID: p.logID },
  };
}

/** The log entry a Rekor bundle annotation describes. */
export function tlogEntryFromRekorBundle(rb: CosignRekorBundle): TransparencyLogEntry {
  const body = Buffer.from(String(rb?.Payload?.body ?? ''), 'base64');
  let kind = '';
  let version = '';
  try {
    const parsed = JSON.parse(body.toString('utf8'));
    kind = String(parsed.kind ?? '');
    version = String(parsed.apiVersion ?? '');
  } catch {
    throw new BundleFormatError('the Rekor bundle body is not base64 JSON');
  }
  if (!/^[0-9a-f]{64}$/.test(String(rb.Payload.logID)))
    throw new BundleFormatError('the Rekor bundle logID is not 64 hex');
  if (typeof rb.SignedEntryTimestamp !== 'string')
    throw new BundleFormatError('the Rekor bundle has no SignedEntryTimestamp');
  return {
    logIndex: Number(rb.Payload.logIndex),
    logId: Buffer.from(rb.Payload.logID, 'hex'),
    kind,
    version,
    integratedTime: Number(rb.Payload.integratedTime),
    signedEntryTimestamp: Buffer.from(rb.SignedEntryTimestamp, 'base64'),
    inclusionProof: undefined,
    canonicalizedBody: body,
  };
}

interface CosignBlobBundle {
  base64Signature: string;
  cert?: string;
  rekorBundle?: CosignRekorBundle;
}

function isCosignBlobBundle(json: unknown): json is CosignBlobBundle {
  return typeof json === 'object' && json !== null && 'base64Signature' in json && !('mediaType' in json);
}

/** A `cosign sign-blob --bundle` file as a bundle: a message signature over the blob, without its digest. */
function bundleFromCosignBlobBundle(b: CosignBlobBundle): Bundle {
  if (typeof b.base64Signature !== 'string' || b.base64Signature === '')
    throw new BundleFormatError('base64Signature must be a non-empty string');
  let certs: Buffer[] = [];
  if (b.cert !== undefined && b.cert !== '') {
    if (typeof b.cert !== 'string') throw new BundleFormatError('cert must be a string');
    certs = pemToDer(Buffer.from(b.cert, 'base64').toString('utf8'));
    if (certs.length === 0) throw new BundleFormatError('cert holds no PEM certificate');
  }
  return {
    mediaType: V01_MEDIA_TYPE,
    version: '0.1',
    verificationMaterial: {
      content: certs.length
        ? { kind: 'certificate', certificate: certs[0] }
        : { kind: 'publicKey', hint: '' },
      tlogEntries: b.rekorBundle ? [tlogEntryFromRekorBundle(b.rekorBundle)] : [],
      rfc3161Timestamps: [],
    },
    content: {
      kind: 'messageSignature',
      messageDigest: undefined,
      signature: Buffer.from(b.base64Signature, 'base64'),
    },
  };
}

/** A Sigstore bundle, or cosign's older blob bundle file, from its JSON text or parsed JSON. */
export function parseAnyBundle(input: string | Uint8Array | unknown): Bundle {
  const json = bundleJson(input);
  return isCosignBlobBundle(json) ? bundleFromCosignBlobBundle(json) : parseBundle(json);
}
