// X.509 certificates as sigil reads them (RFC 5280 §4.1): one pass over the DER keeps the byte ranges that matter
// (TBSCertificate, names, SubjectPublicKeyInfo, each extension) so chain checks, SCT reconstruction (RFC 6962
// §3.2) and Fulcio's identity extensions (sigstore/fulcio docs/oid-info.md) need no re-encoding.
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  children,
  content,
  DerError,
  decodeOid,
  encodeTlv,
  expectTag,
  readBoolean,
  readOid,
  readSmallInt,
  readTime,
  readTlv,
  TAG,
  type Tlv,
  whole,
} from './x509-der.js';

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
  ctPoison: '1.3.6.1.4.1.11129.2.4.3',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

/** Fulcio's certificate extensions (sigstore/fulcio docs/oid-info.md). */
export const FULCIO_OID = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowName: '1.3.6.1.4.1.57264.1.4',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
  otherName: '1.3.6.1.4.1.57264.1.7',
  issuerV2: '1.3.6.1.4.1.57264.1.8',
} as const;

/** Extensions sigil understands; any other extension marked critical makes the certificate unusable (§4.2). */
const KNOWN_CRITICAL = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.subjectKeyId,
  OID.authorityKeyId,
  '2.5.29.30', // name constraints: Fulcio roots carry none; listed so intermediates that do still parse
  '2.5.29.32', // certificate policies
]);

export interface Extension {
  oid: string;
  critical: boolean;
  /** Content of extnValue (the DER of the extension's own value). */
  value: Buffer;
  /** The whole Extension SEQUENCE, as it sits in the TBSCertificate. */
  der: Buffer;
}

export interface SubjectAltName {
  type: 'email' | 'uri' | 'dns' | 'otherName';
  value: string;
}

export interface Certificate {
  der: Buffer;
  tbs: Buffer;
  version: number;
  serialNumber: Buffer;
  /** DER of the issuer / subject Name, compared byte-for-byte when chaining (RFC 5280 §7.1 simplified). */
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  extensions: Extension[];
  isCA: boolean;
  pathLenConstraint: number | undefined;
  /** KeyUsage bits (RFC 5280 §4.2.1.3; bit 0 = digitalSignature is the first byte's MSB), or undefined. */
  keyUsage: number | undefined;
  /** Extended key usages, or undefined when the extension is absent (then any usage is allowed). */
  extKeyUsage: string[] | undefined;
  subjectAltNames: SubjectAltName[];
  /** Extensions left in the TBS header position, needed to rebuild the precertificate. */
  tbsLayout: TbsLayout;
  /** An extension marked critical that sigil does not understand, if any. */
  unknownCritical: string | undefined;
}

interface TbsLayout {
  /** Offset (in der) of the [3] EXPLICIT extensions wrapper and the TBS content start. */
  tbsContentStart: number;
  extWrapperStart: number;
  extWrapperEnd: number;
}

/** Parses a DER certificate; throws DerError with the reason when it is not one. */
export function parseCertificate(derIn: Uint8Array): Certificate {
  const der = Buffer.isBuffer(derIn) ? derIn : Buffer.from(derIn);
  const cert = expectTag(readTlv(der, 0), TAG.SEQUENCE, 'Certificate');
  if (cert.end !== der.length) throw new DerError('trailing bytes after Certificate');
  const [tbsT, sigAlgT, sigT] = children(der, cert);
  expectTag(tbsT, TAG.SEQUENCE, 'TBSCertificate');
  const signatureAlgorithm = readOid(
    der,
    children(der, expectTag(sigAlgT, TAG.SEQUENCE, 'AlgorithmIdentifier'))[0],
  );
  const sigBits = content(der, expectTag(sigT, TAG.BIT_STRING, 'signatureValue'));
  if (sigBits[0] !== 0) throw new DerError('signatureValue has unused bits');

  const fields = children(der, tbsT);
  let i = 0;
  let version = 1;
  if (fields[0]?.tag === 0xa0) {
    version = readSmallInt(der, children(der, fields[0])[0]) + 1;
    i++;
  }
  const serialNumber = content(der, expectTag(fields[i++], TAG.INTEGER, 'serialNumber'));
  i++; // signature AlgorithmIdentifier inside the TBS (must equal the outer one; checked below)
  const issuer = whole(der, expectTag(fields[i++], TAG.SEQUENCE, 'issuer'));
  const validity = children(der, expectTag(fields[i++], TAG.SEQUENCE, 'validity'));
  const subject = whole(der, expectTag(fields[i++], TAG.SEQUENCE, 'subject'));
  const spki = whole(der, expectTag(fields[i++], TAG.SEQUENCE, 'subjectPublicKeyInfo'));
  const innerAlg = whole(der, fields[version === 1 ? 1 : 2]);
  if (!innerAlg.equals(whole(der, sigAlgT)))
    throw new DerError('TBS signature algorithm differs from outer one');

  let extWrapper: Tlv | undefined;
  for (; i < fields.length; i++) if (fields[i].tag === 0xa3) extWrapper = fields[i];
  const extensions: Extension[] = [];
  if (extWrapper) {
    const seq = expectTag(children(der, extWrapper)[0], TAG.SEQUENCE, 'Extensions');
    for (const e of children(der, seq)) {
      const parts = children(der, expectTag(e, TAG.SEQUENCE, 'Extension'));
      const critical = parts.length === 3 ? readBoolean(der, parts[1]) : false;
      const valueT = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue');
      extensions.push({
        oid: readOid(der, parts[0]),
        critical,
        value: content(der, valueT),
        der: whole(der, e),
      });
    }
  }

  const cert0: Certificate = {
    der,
    tbs: whole(der, tbsT),
    version,
    serialNumber,
    issuer,
    subject,
    notBefore: readTime(der, validity[0]),
    notAfter: readTime(der, validity[1]),
    spki,
    signatureAlgorithm,
    signature: sigBits.subarray(1),
    extensions,
    isCA: false,
    pathLenConstraint: undefined,
    keyUsage: undefined,
    extKeyUsage: undefined,
    subjectAltNames: [],
    tbsLayout: {
      tbsContentStart: tbsT.contentStart,
      extWrapperStart: extWrapper?.start ?? tbsT.end,
      extWrapperEnd: extWrapper?.end ?? tbsT.end,
    },
    unknownCritical: extensions.find((e) => e.critical && !KNOWN_CRITICAL.has(e.oid))?.oid,
  };
  for (const ext of extensions) {
    if (ext.oid === OID.basicConstraints) {
      const bc = children(ext.value, readTlv(ext.value, 0));
      let j = 0;
      if (bc[j]?.tag === TAG.BOOLEAN) cert0.isCA = readBoolean(ext.value, bc[j++]);
      if (bc[j]?.tag === TAG.INTEGER) cert0.pathLenConstraint = readSmallInt(ext.value, bc[j]);
    } else if (ext.oid === OID.keyUsage) {
      const bits = content(ext.value, expectTag(readTlv(ext.value, 0), TAG.BIT_STRING, 'keyUsage'));
      cert0.keyUsage = ((bits[1] ?? 0) << 8) | (bits[2] ?? 0);
    } else if (ext.oid === OID.extKeyUsage) {
      cert0.extKeyUsage = children(ext.value, readTlv(ext.value, 0)).map((t) => readOid(ext.value, t));
    } else if (ext.oid === OID.subjectAltName) {
      cert0.subjectAltNames = parseGeneralNames(ext.value);
    }
  }
  return cert0;
}

/** GeneralNames (RFC 5280 §4.2.1.6): rfc822Name [1], dNSName [2], URI [6], and Fulcio's otherName [0]. */
function parseGeneralNames(der: Buffer): SubjectAltName[] {
  const out: SubjectAltName[] = [];
  for (const name of children(der, readTlv(der, 0))) {
    switch (name.tag) {
      case 0x81:
        out.push({ type: 'email', value: content(der, name).toString('latin1') });
        break;
      case 0x82:
        out.push({ type: 'dns', value: content(der, name).toString('latin1') });
        break;
      case 0x86:
        out.push({ type: 'uri', value: content(der, name).toString('latin1') });
        break;
      case 0xa0: {
        // otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }; Fulcio puts a UTF8String there.
        const [oidT, valueT] = children(der, name);
        if (readOid(der, oidT) !== FULCIO_OID.otherName) break;
        const inner = children(der, valueT)[0];
        out.push({
          type: 'otherName',
          value: content(der, expectTag(inner, TAG.UTF8_STRING, 'otherName')).toString(),
        });
        break;
      }
    }
  }
  return out;
}

/** KeyUsage bit masks over Certificate.keyUsage (first byte in the high 8 bits). */
export const KEY_USAGE = { digitalSignature: 0x8000, keyCertSign: 0x0400 } as const;

export function findExtension(cert: Certificate, oid: string): Extension | undefined {
  return cert.extensions.find((e) => e.oid === oid);
}

/**
 * Reads a Fulcio extension as text. The first generation (…1.1 to …1.6) stores raw bytes; the later ones
 * (…1.8 onwards) store a DER UTF8String (docs/oid-info.md).
 */
export function fulcioExtensionText(cert: Certificate, oid: string): string | undefined {
  const ext = findExtension(cert, oid);
  if (!ext) return undefined;
  const last = Number(oid.slice(oid.lastIndexOf('.') + 1));
  if (oid.startsWith('1.3.6.1.4.1.57264.1.') && last >= 8) {
    return content(
      ext.value,
      expectTag(readTlv(ext.value, 0), TAG.UTF8_STRING, `extension ${oid}`),
    ).toString();
  }
  return ext.value.toString();
}

/**
 * The TBSCertificate with the SCT list extension removed, which is what the CT log signed (RFC 6962 §3.2:
 * the precertificate TBS without the poison extension equals the final TBS without the SCT extension).
 */
export function precertificateTbs(cert: Certificate): Buffer {
  const { der, tbsLayout: l } = cert;
  const kept = cert.extensions.filter((e) => e.oid !== OID.sctList).map((e) => e.der);
  const parts: Buffer[] = [der.subarray(l.tbsContentStart, l.extWrapperStart)];
  if (kept.length > 0) parts.push(encodeTlv(0xa3, encodeTlv(TAG.SEQUENCE, Buffer.concat(kept))));
  const tbsEnd = cert.tbs.byteOffset - der.byteOffset + cert.tbs.length;
  parts.push(der.subarray(l.extWrapperEnd, tbsEnd));
  return encodeTlv(TAG.SEQUENCE, Buffer.concat(parts));
}

const SIGNATURE_HASH: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null,
};

/**
 * The hash a signature algorithm OID signs with (RFC 5758 §3.2 ECDSA, RFC 4055 §5 RSA PKCS#1 v1.5): a node:crypto
 * name, null for Ed25519 (which hashes internally, RFC 8410), undefined for an algorithm not supported here.
 */
export function signatureAlgorithmHash(oid: string): string | null | undefined {
  return Object.hasOwn(SIGNATURE_HASH, oid) ? SIGNATURE_HASH[oid] : undefined;
}

/** Whether `cert` carries a valid signature by `issuerKey` over its TBS (false on any malformed input). */
export function certificateSignedBy(cert: Certificate, issuerKey: KeyObject): boolean {
  const hash = signatureAlgorithmHash(cert.signatureAlgorithm);
  if (hash === undefined) return false;
  try {
    return verify(hash, cert.tbs, issuerKey, cert.signature);
  } catch {
    return false;
  }
}

export function certificatePublicKey(cert: Certificate): KeyObject {
  return spkiPublicKey(cert.spki);
}

const EC_CURVES: Record<string, { crv: string; size: number }> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', size: 32 },
  '1.3.132.0.34': { crv: 'P-384', size: 48 },
  '1.3.132.0.35': { crv: 'P-521', size: 66 },
};

/**
 * A KeyObject for a DER SubjectPublicKeyInfo (RFC 5480 for EC keys). Uncompressed EC points go through a JWK,
 * which OpenSSL 3 imports about three times faster than DER (no decoder lookup); the point is still checked to
 * be on the curve. Anything else takes the DER path.
 */
export function spkiPublicKey(spki: Buffer): KeyObject {
  try {
    const [algT, keyT] = children(spki, readTlv(spki, 0));
    const [oidT, paramT] = children(spki, algT);
    const curve =
      readOid(spki, oidT) === '1.2.840.10045.2.1' && paramT?.tag === TAG.OID
        ? EC_CURVES[readOid(spki, paramT)]
        : undefined;
    const bits = content(spki, keyT);
    if (
      curve &&
      keyT.tag === TAG.BIT_STRING &&
      bits.length === 2 + 2 * curve.size &&
      bits[0] === 0 &&
      bits[1] === 4
    ) {
      const x = bits.subarray(2, 2 + curve.size).toString('base64url');
      const y = bits.subarray(2 + curve.size).toString('base64url');
      return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x, y }, format: 'jwk' });
    }
  } catch {
    // fall through to the DER decoder, which reports what is wrong
  }
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** RFC 7468 §2 textual encoding: base64 in lines of 64 characters between the armour lines, newline-terminated. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  // Sliced rather than split by a regular expression: the log builds a canonical PEM for every entry's key.
  let lines = '';
  for (let at = 0; at < b64.length; at += 64) lines += `${b64.slice(at, at + 64)}\n`;
  return `-----BEGIN ${label}-----\n${lines}-----END ${label}-----\n`;
}

/** Converts PEM (one or more CERTIFICATE blocks) to DER buffers. */
export function pemToDer(pem: string, label = 'CERTIFICATE'): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...pem.matchAll(re)].map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}

export { DerError, decodeOid };
