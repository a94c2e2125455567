// Rekor v2 entries as rekor-tiles checks them (pkg/types/hashedrekord, internal/algorithmregistry): the verifier
// must be a key or certificate whose type and size are what its keyDetails say, the digest as long as that
// algorithm's hash, and the signature must verify; the canonical Entry (formats/rekor-v2.ts) is the leaf.
// Accepted here, as rekor-tiles accepts them: ECDSA P-256/P-384/P-521, RSA PKCS#1 v1.5 and RSA-PSS
// (2048/3072/4096) with their SHA-2 hashes, and Ed25519ph over a SHA-512 digest. Pure Ed25519 is refused as
// rekor-tiles refuses it: it does not sign a digest.
// DSSE envelopes (dsseRequestV002, deprecated by rekor-tiles) are accepted: every signature must verify with
// one of the verifiers over the envelope's PAE.
import { createHash } from 'node:crypto';
import {
  type CreateEntryRequestV2,
  checkV2Digest,
  dsseV002Body,
  FormatError,
  type HashedRekordRequestV002,
  hashedRekordV002Body,
  pae,
  parseCreateEntryRequestV2,
  REKOR_V2_API_VERSION,
  type V2Hash,
  type V2Verifier,
} from '../../formats/index.js';
import { type VerificationKey, verificationKeyFromDer } from './keys.js';

/** What a validated entry gives the log (entry-types.ts ValidatedEntry, which imports this module). */
interface ValidatedEntry {
  kind: string;
  apiVersion: string;
  body: Buffer;
  terms: string[];
}

/** A hashedrekord v0.0.2 request whose key matches its details, before its signature is checked. */
export interface HashedRekordV2Check {
  request: HashedRekordRequestV002;
  key: VerificationKey;
  hash: V2Hash;
}

/** The verifier's key, checked against its keyDetails (a P-384 key named as P-256 is refused, as in rekor-tiles). */
function keyFor(v: V2Verifier, path: string): VerificationKey {
  const d = v.keyDetails;
  const key = verificationKeyFromDer(v.der, v.certificate);
  const matches =
    d.type === 'ecdsa'
      ? key.curveName === d.curve
      : d.type === 'rsa-pkcs1v15' || d.type === 'rsa-pss'
        ? key.type === 'rsa' && key.rsaBits === d.bits
        : (d.type === 'ed25519' || d.type === 'ed25519ph') && key.type === 'ed25519';
  if (!matches) {
    const actual = key.curveName
      ? `an ECDSA ${key.curveName}`
      : key.rsaBits
        ? `an RSA-${key.rsaBits}`
        : `an ${key.type}`;
    const whose = v.certificate ? "the certificate's key" : 'the key';
    throw new FormatError(`${path}: keyDetails ${d.name} do not match ${whose}, ${actual} key`);
  }
  return key;
}

export function parseHashedRekordV2(request: HashedRekordRequestV002): HashedRekordV2Check {
  const path = 'hashedRekordRequestV002.signature.verifier';
  // Pure Ed25519 first: it fails for what it is, whatever the key.
  const hash = checkV2Digest(request.digest, request.verifier.keyDetails, 'hashedRekordRequestV002.digest');
  return { request, key: keyFor(request.verifier, path), hash };
}

export function hashedRekordV2Result(check: HashedRekordV2Check, verified: boolean): ValidatedEntry {
  if (!verified)
    throw new FormatError('verifying signature: the signature does not match the digest and verifier');
  return {
    kind: 'hashedrekord',
    apiVersion: REKOR_V2_API_VERSION,
    body: hashedRekordV002Body(check.request, check.hash),
    terms: [],
  };
}

function validateDsseV2(r: Extract<CreateEntryRequestV2, { kind: 'dsse' }>): ValidatedEntry {
  const keys = r.verifiers.map((v, i) => keyFor(v, `dsseRequestV002.verifiers[${i}]`));
  const message = pae(r.envelope.payloadType, r.envelope.payload);
  const signed = r.envelope.signatures.map(({ sig }, i) => {
    const at = keys.findIndex((k) => k.verifyMessage(message, sig));
    if (at < 0)
      throw new FormatError(`could not verify envelope: signature ${i} verifies with none of the verifiers`);
    return { sig, verifier: r.verifiers[at] };
  });
  return {
    kind: 'dsse',
    apiVersion: REKOR_V2_API_VERSION,
    body: dsseV002Body(createHash('sha256').update(r.envelope.payload).digest(), signed),
    terms: [],
  };
}

/**
 * Parses a v2 request; a hashedrekord with an ECDSA key comes back unverified (for the caller's batch), anything
 * else validated.
 */
export function parseV2Request(value: unknown): { batch: HashedRekordV2Check } | { entry: ValidatedEntry } {
  const r = parseCreateEntryRequestV2(value);
  if (r.kind === 'dsse') return { entry: validateDsseV2(r) };
  const check = parseHashedRekordV2(r);
  if (check.key.ecdsa) return { batch: check };
  const type = r.verifier.keyDetails.type;
  const verified =
    type === 'rsa-pss'
      ? check.key.verifyPssDigest?.(check.hash, r.digest, r.signature)
      : type === 'ed25519ph'
        ? check.key.verifyEd25519phDigest?.(r.digest, r.signature)
        : check.key.verifyDigest(check.hash, r.digest, r.signature);
  return { entry: hashedRekordV2Result(check, verified === true) };
}
