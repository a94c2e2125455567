// The timestamp engine: a checked TimeStampReq in, a signed TimeStampResp out (RFC 3161 §2.4), no HTTP. Each
// token gets a fresh random 128-bit serial number, unique without any state to keep or recover after a crash,
// the TSA's one policy OID, the time from this machine's clock with a one-second accuracy (as sigstore's TSA
// states), and the request's nonce echoed back. The signature is one synchronous ECDSA P-256 signature over the
// signed attributes (crypto/'s signFunction: the native addon where it is built).
import { randomBytes } from 'node:crypto';
import { signFunction } from '../crypto/index.js';
import {
  encodeSignedAttributes,
  encodeTimestampResponse,
  encodeTstInfo,
  oid,
  parseCertificate,
  seq,
  type TimestampRequest,
  type TsaCertificate,
} from '../formats/index.js';
import type { TsaChain } from './chain.js';

/** sigstore's TSA policy arc (1.3.6.1.4.1.57264.2), the OID its public instance answers with. */
export const DEFAULT_POLICY = '1.3.6.1.4.1.57264.2';
export const ACCURACY_SECONDS = 1;
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

export interface TimestampAuthority {
  readonly policy: string;
  /** The policies a request may name (reqPolicy). */
  readonly acceptedPolicies: readonly string[];
  /** Signing certificate first. */
  readonly certificates: readonly Buffer[];
  /** A granted TimeStampResp for a checked request. */
  stamp(request: TimestampRequest, now?: Date): Buffer;
}

export function timestampAuthority(chain: TsaChain, policy = DEFAULT_POLICY): TimestampAuthority {
  const leaf = parseCertificate(chain.certificates[0]);
  if (chain.signingKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new Error('the TSA signing key must be ECDSA P-256 (signatures are SHA-256 over the attributes)');
  const cert: TsaCertificate = {
    der: leaf.der,
    issuer: leaf.issuer,
    serialNumber: leaf.serialNumber,
    signatureAlgorithm: seq(oid(ECDSA_WITH_SHA256)),
  };
  const sign = signFunction(chain.signingKey);
  return {
    policy,
    acceptedPolicies: [policy],
    certificates: chain.certificates,
    stamp(request, now = new Date()) {
      const tstInfo = encodeTstInfo({
        policy,
        request,
        serialNumber: randomBytes(16),
        genTime: now,
        accuracySeconds: ACCURACY_SECONDS,
      });
      const signedAttrs = encodeSignedAttributes(tstInfo, cert, now);
      return encodeTimestampResponse(tstInfo, signedAttrs, sign(signedAttrs), cert, request.certReq);
    },
  };
}
