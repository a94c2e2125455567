// RFC 3161 signed timestamps over the bundle's signature (sigstore_bundle.proto TimestampVerificationData): a
// trusted timestamp authority's CMS SignedData (RFC 5652 §5) wrapping a TSTInfo (RFC 3161 §2.4.2) whose
// messageImprint is the hash of the signature bytes. The TSA must be one of the trusted root's
// timestampAuthorities — certificates embedded in the token are never trusted — and its certificate and trusted
// root entry must be valid at genTime. Each verified genTime becomes a time of signing.
import { createHash, verify } from 'node:crypto';
import {
  children,
  expectTag,
  type Node,
  parseDer,
  readOid,
  readTime,
  signatureAlgorithmHash,
  TAG,
} from '../formats/index.js';
import { fail } from './errors.js';
import { inRange, type TrustMaterial } from './trust-material.js';

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';

const DIGEST_HASHES: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

interface ParsedTimestamp {
  genTime: Date;
  imprintHash: string;
  imprint: Buffer;
  eContent: Buffer;
  signer: { issuer: Buffer; serial: Buffer } | { keyId: Buffer };
  digestAlgorithm: string;
  signedAttrs: Buffer | undefined;
  attrDigest: Buffer | undefined;
  signatureHash: string;
  signature: Buffer;
}

function algOf(t: Node | undefined): string {
  return readOid(children(expectTag(t, TAG.SEQUENCE, 'AlgorithmIdentifier'))[0]);
}

/** The hash a digest algorithm names; a signature algorithm OID in its place is taken for the hash it implies. */
function hashOf(oid: string, what: string): string {
  const h = DIGEST_HASHES[oid] ?? signatureAlgorithmHash(oid);
  if (!h) throw new Error(`${what} algorithm ${oid} is not supported`);
  return h;
}

/** Parses a TimeStampResp (RFC 3161 §2.4.2) or a bare TimeStampToken (ContentInfo). */
function parseTimestamp(der: Buffer): ParsedTimestamp {
  let parts = children(parseDer(der, TAG.SEQUENCE, 'timestamp'));
  if (parts[0]?.tag === TAG.SEQUENCE) {
    // TimeStampResp: status must be granted (0) or grantedWithMods (1).
    const status = children(parts[0])[0].content;
    if (status.length !== 1 || status[0] > 1) throw new Error('timestamp response status is not granted');
    parts = children(expectTag(parts[1], TAG.SEQUENCE, 'TimeStampToken'));
  }
  if (readOid(parts[0]) !== OID_SIGNED_DATA) throw new Error('timestamp token is not CMS SignedData');
  const sd = children(expectTag(children(parts[1])[0], TAG.SEQUENCE, 'SignedData'));
  const encap = children(expectTag(sd[2], TAG.SEQUENCE, 'encapContentInfo'));
  if (readOid(encap[0]) !== OID_TST_INFO) throw new Error('timestamp content is not a TSTInfo');
  const eContent = expectTag(children(encap[1])[0], TAG.OCTET_STRING, 'eContent').content;
  const signerInfos = children(expectTag(sd[sd.length - 1], TAG.SET, 'signerInfos'));
  if (signerInfos.length !== 1) throw new Error(`timestamp has ${signerInfos.length} signers, expected 1`);
  const si = children(signerInfos[0]);
  let i = 1;
  const sidT = si[i++];
  const signer =
    sidT.tag === TAG.SEQUENCE
      ? (() => {
          const [issuerT, serialT] = children(sidT);
          return { issuer: issuerT.raw, serial: serialT.content };
        })()
      : { keyId: sidT.content };
  const digestAlgorithm = hashOf(algOf(si[i++]), 'timestamp digest');
  let signedAttrs: Buffer | undefined;
  let attrDigest: Buffer | undefined;
  let contentTypeOk = false;
  if (si[i]?.tag === 0xa0) {
    const attrsT = si[i++];
    // Signed attributes are signed as a DER SET (RFC 5652 §5.4): same bytes with the SET tag.
    signedAttrs = Buffer.concat([Buffer.from([TAG.SET]), attrsT.raw.subarray(1)]);
    for (const attr of children(attrsT)) {
      const [oidT, valuesT] = children(attr);
      const oid = readOid(oidT);
      const value = children(valuesT)[0];
      if (oid === OID_MESSAGE_DIGEST)
        attrDigest = expectTag(value, TAG.OCTET_STRING, 'messageDigest').content;
      if (oid === OID_CONTENT_TYPE) contentTypeOk = readOid(value) === OID_TST_INFO;
    }
    if (!attrDigest || !contentTypeOk)
      throw new Error('timestamp signed attributes lack messageDigest or contentType');
  }
  const sigAlg = algOf(si[i++]);
  const signatureHash = signatureAlgorithmHash(sigAlg) ?? digestAlgorithm;
  const signature = expectTag(si[i], TAG.OCTET_STRING, 'signature').content;

  const tst = children(parseDer(eContent, TAG.SEQUENCE, 'TSTInfo'));
  const imprint = children(expectTag(tst[2], TAG.SEQUENCE, 'messageImprint'));
  return {
    genTime: readTime(expectTag(tst[4], TAG.GENERALIZED_TIME, 'genTime')),
    imprintHash: hashOf(algOf(imprint[0]), 'message imprint'),
    imprint: expectTag(imprint[1], TAG.OCTET_STRING, 'hashedMessage').content,
    eContent,
    signer,
    digestAlgorithm,
    signedAttrs,
    attrDigest,
    signatureHash,
    signature,
  };
}

/** Verifies every RFC 3161 timestamp over `signature`; returns their genTimes (ms). */
export function verifyRfc3161Timestamps(tokens: Buffer[], signature: Buffer, trust: TrustMaterial): number[] {
  return tokens.map((der, n) => verifyOne(der, n, signature, trust));
}

function verifyOne(der: Buffer, n: number, signature: Buffer, trust: TrustMaterial): number {
  let ts: ParsedTimestamp;
  try {
    ts = parseTimestamp(der);
  } catch (err) {
    fail('TIMESTAMP_INVALID', `RFC 3161 timestamp ${n} is malformed: ${(err as Error).message}`, err);
  }
  if (!createHash(ts.imprintHash).update(signature).digest().equals(ts.imprint)) {
    fail('TIMESTAMP_INVALID', `RFC 3161 timestamp ${n} is not over this bundle's signature`);
  }
  const signedBytes = ts.signedAttrs ?? ts.eContent;
  if (ts.signedAttrs && !createHash(ts.digestAlgorithm).update(ts.eContent).digest().equals(ts.attrDigest!)) {
    fail('TIMESTAMP_INVALID', `RFC 3161 timestamp ${n}: messageDigest attribute does not match TSTInfo`);
  }
  const t = ts.genTime.getTime();
  let reason = `RFC 3161 timestamp ${n} was not issued by a timestamp authority in the trusted root`;
  for (const tsa of trust.timestampAuthorities) {
    const leaf = tsa.chain[0];
    if (!leaf || tsa.unusable) continue;
    const named =
      'keyId' in ts.signer
        ? false
        : leaf.cert.issuer.equals(ts.signer.issuer) && leaf.cert.serialNumber.equals(ts.signer.serial);
    if (!named) continue;
    let ok = false;
    try {
      ok = verify(
        leaf.key.asymmetricKeyType === 'ed25519' ? null : ts.signatureHash,
        signedBytes,
        leaf.key,
        ts.signature,
      );
    } catch {
      ok = false;
    }
    if (!ok) {
      reason = `RFC 3161 timestamp ${n} signature does not verify with ${tsa.name}`;
      continue;
    }
    if (!inRange(tsa.validFor, t)) {
      reason = `RFC 3161 timestamp ${n} time ${ts.genTime.toISOString()} is outside ${tsa.name}'s validity in the trusted root`;
      continue;
    }
    const expired = tsa.chain.find((c) => t < c.cert.notBefore.getTime() || t > c.cert.notAfter.getTime());
    if (expired) {
      reason = `RFC 3161 timestamp ${n} time ${ts.genTime.toISOString()} is outside the TSA certificate validity`;
      continue;
    }
    return t;
  }
  fail('TIMESTAMP_INVALID', reason);
}
