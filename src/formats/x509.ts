// X.509 certificates as sigil reads them (RFC 5280 §4.1), the one parser for the CT log, the Rekor log's keys,
// the verifier and the CA: one pass over strict DER (der.ts) keeps the byte ranges that matter (TBSCertificate,
// names, SubjectPublicKeyInfo, each extension) so chain checks, precertificate TBS rebuilding (RFC 6962 §3.2) and
// Fulcio's identity extensions (sigstore/fulcio docs/oid-info.md) need no re-encoding. Our own rather than
// @peculiar/x509 or pkijs: ~15 µs a Fulcio leaf against ~3 ms (docs/design/formats-x509.md).
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  children,
  DerError,
  expectTag,
  explicit,
  inside,
  type Node,
  parseDer,
  readBitString,
  readBits,
  readBoolean,
  readIntegerBytes,
  readOid,
  readSmallInt,
  readTime,
  seq,
  TAG,
} from './der.js';

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
  readonly oid: string;
  readonly critical: boolean;
  /** Content of extnValue (the DER of the extension's own value). */
  readonly value: Buffer;
  /** The whole Extension SEQUENCE, as it sits in the TBSCertificate. */
  readonly raw: Buffer;
}

/** An Extension whose byte views are made when asked for: the log parses a certificate per entry. */
class ParsedExtension implements Extension {
  constructor(
    readonly oid: string,
    readonly critical: boolean,
    readonly node: Node,
    readonly valueNode: Node,
  ) {}
  get value(): Buffer {
    return this.valueNode.content;
  }
  get raw(): Buffer {
    return this.node.raw;
  }
}

export interface SubjectAltName {
  type: 'email' | 'uri' | 'dns' | 'otherName';
  value: string;
}

export interface Certificate {
  der: Buffer;
  tbs: Buffer;
  /** The TBSCertificate's top-level fields, in order (to rebuild it with other extensions). */
  tbsFields: Node[];
  version: number;
  serialNumber: Buffer;
  /** DER of the issuer / subject Name, compared byte-for-byte when chaining (RFC 5280 §7.1 simplified). */
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
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
  /** An extension marked critical that sigil does not understand, if any. */
  unknownCritical: string | undefined;
}

/** Tags that may follow subjectPublicKeyInfo, in this order: issuerUniqueID [1], subjectUniqueID [2], extensions [3]. */
const TBS_OPTIONAL_TAIL = [0x81, 0x82, 0xa3];

/**
 * Parses a DER certificate (RFC 5280 §4.1), strictly: throws DerError with the reason on anything that is not
 * one (and never another error, whatever the input).
 */
export function parseCertificate(derIn: Uint8Array): Certificate {
  const der = Buffer.isBuffer(derIn) ? derIn : Buffer.from(derIn);
  const parts = children(parseDer(der, TAG.SEQUENCE, 'Certificate'));
  if (parts.length !== 3) throw new DerError('Certificate must hold exactly three fields');
  const [tbsT, sigAlgT, sigT] = parts;
  const signatureAlgorithm = readOid(children(expectTag(sigAlgT, TAG.SEQUENCE, 'AlgorithmIdentifier'))[0]);
  const signature = readBitString(sigT);

  const fields = children(expectTag(tbsT, TAG.SEQUENCE, 'TBSCertificate'));
  let i = 0;
  let version = 1;
  if (fields[0]?.tag === 0xa0) {
    const inner = children(fields[0]);
    if (inner.length !== 1) throw new DerError('version must hold one INTEGER');
    version = readSmallInt(inner[0]) + 1;
    i++;
  }
  const serialNumber = readIntegerBytes(fields[i++], 'serialNumber');
  const innerAlg = expectTag(fields[i++], TAG.SEQUENCE, 'signature');
  if (!innerAlg.raw.equals(sigAlgT.raw)) throw new DerError('TBS signature algorithm differs from outer one');
  const issuer = expectTag(fields[i++], TAG.SEQUENCE, 'issuer').raw;
  const validity = children(expectTag(fields[i++], TAG.SEQUENCE, 'validity'));
  if (validity.length !== 2) throw new DerError('validity must hold two times');
  const subject = expectTag(fields[i++], TAG.SEQUENCE, 'subject').raw;
  const spki = expectTag(fields[i++], TAG.SEQUENCE, 'subjectPublicKeyInfo').raw;
  let extWrapper: Node | undefined;
  for (let tail = 0; i < fields.length; i++) {
    while (tail < TBS_OPTIONAL_TAIL.length && TBS_OPTIONAL_TAIL[tail] !== fields[i].tag) tail++;
    if (tail++ === TBS_OPTIONAL_TAIL.length)
      throw new DerError(`unexpected field 0x${fields[i].tag.toString(16)} in TBSCertificate`);
    if (fields[i].tag === 0xa3) extWrapper = fields[i];
  }

  const extensions: ParsedExtension[] = [];
  let unknownCritical: string | undefined;
  if (extWrapper) {
    const wrapped = children(extWrapper);
    if (wrapped.length !== 1) throw new DerError('extensions [3] must hold one SEQUENCE');
    for (const e of children(expectTag(wrapped[0], TAG.SEQUENCE, 'Extensions'))) {
      const ext = children(expectTag(e, TAG.SEQUENCE, 'Extension'));
      if (ext.length !== 2 && ext.length !== 3) throw new DerError('Extension must hold two or three fields');
      const oid = readOid(ext[0]);
      for (const x of extensions) if (x.oid === oid) throw new DerError(`duplicate extension ${oid}`);
      const critical = ext.length === 3 ? readBoolean(ext[1]) : false;
      if (critical && unknownCritical === undefined && !KNOWN_CRITICAL.has(oid)) unknownCritical = oid;
      extensions.push(
        new ParsedExtension(oid, critical, e, expectTag(ext[ext.length - 1], TAG.OCTET_STRING, 'extnValue')),
      );
    }
  }

  const cert: Certificate = {
    der,
    tbs: tbsT.raw,
    tbsFields: fields,
    version,
    serialNumber,
    issuer,
    subject,
    notBefore: readTime(validity[0]),
    notAfter: readTime(validity[1]),
    spki,
    signatureAlgorithm,
    signature,
    extensions,
    isCA: false,
    pathLenConstraint: undefined,
    keyUsage: undefined,
    extKeyUsage: undefined,
    subjectAltNames: [],
    unknownCritical,
  };
  for (const { oid, valueNode } of extensions) {
    if (oid === OID.basicConstraints) {
      const bc = children(inside(valueNode, TAG.SEQUENCE, 'basicConstraints'));
      let j = 0;
      if (bc[j]?.tag === TAG.BOOLEAN) cert.isCA = readBoolean(bc[j++]);
      if (bc[j]?.tag === TAG.INTEGER) cert.pathLenConstraint = readSmallInt(bc[j++]);
      if (j !== bc.length) throw new DerError('malformed basicConstraints');
    } else if (oid === OID.keyUsage) {
      const { bytes } = readBits(inside(valueNode, TAG.BIT_STRING, 'keyUsage'));
      cert.keyUsage = ((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0);
    } else if (oid === OID.extKeyUsage) {
      cert.extKeyUsage = children(inside(valueNode, TAG.SEQUENCE, 'extKeyUsage')).map(readOid);
    } else if (oid === OID.subjectAltName) {
      cert.subjectAltNames = parseGeneralNames(inside(valueNode, TAG.SEQUENCE, 'subjectAltName'));
    }
  }
  return cert;
}

/** GeneralNames (RFC 5280 §4.2.1.6): rfc822Name [1], dNSName [2], URI [6], and Fulcio's otherName [0]. */
function parseGeneralNames(names: Node): SubjectAltName[] {
  const out: SubjectAltName[] = [];
  for (const name of children(names)) {
    switch (name.tag) {
      case 0x81:
        out.push({ type: 'email', value: name.content.toString('latin1') });
        break;
      case 0x82:
        out.push({ type: 'dns', value: name.content.toString('latin1') });
        break;
      case 0x86:
        out.push({ type: 'uri', value: name.content.toString('latin1') });
        break;
      case 0xa0: {
        // otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }; Fulcio puts a UTF8String there.
        const [oidT, valueT] = children(name);
        if (readOid(oidT) !== FULCIO_OID.otherName) break;
        const inner = children(expectTag(valueT, 0xa0, 'otherName value'))[0];
        out.push({
          type: 'otherName',
          value: expectTag(inner, TAG.UTF8_STRING, 'otherName').content.toString(),
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
    return parseDer(ext.value, TAG.UTF8_STRING, `extension ${oid}`).content.toString();
  }
  return ext.value.toString();
}

/**
 * The TBSCertificate re-encoded without the extension `oid` (and, when given, with `add` appended). RFC 6962
 * §3.2: a precertificate's TBS without the poison extension is what the CT log signs, and equals the final
 * certificate's TBS without the SCT list extension (precertificateTbs), which is how clients check the SCT.
 */
export function tbsWithoutExtension(cert: Certificate, oid: string, add?: Buffer): Buffer {
  const kept = cert.extensions.filter((e) => e.oid !== oid).map((e) => e.raw);
  if (add) kept.push(add);
  const fields = cert.tbsFields.filter((f) => f.tag !== 0xa3).map((f) => f.raw);
  if (kept.length > 0) fields.push(explicit(3, seq(...kept)));
  return seq(...fields);
}

export const precertificateTbs = (cert: Certificate) => tbsWithoutExtension(cert, OID.sctList);

export function isPrecertificate(cert: Certificate): boolean {
  return cert.extensions.some((e) => e.oid === OID.ctPoison && e.critical);
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
    const [algT, keyT] = children(parseDer(spki, TAG.SEQUENCE));
    const [oidT, paramT] = children(algT);
    const curve =
      readOid(oidT) === '1.2.840.10045.2.1' && paramT?.tag === TAG.OID
        ? EC_CURVES[readOid(paramT)]
        : undefined;
    const bits = readBitString(keyT);
    if (curve && bits.length === 1 + 2 * curve.size && bits[0] === 4) {
      const x = bits.subarray(1, 1 + curve.size).toString('base64url');
      const y = bits.subarray(1 + curve.size).toString('base64url');
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
