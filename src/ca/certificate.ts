// X.509 certificate building for the CA (RFC 5280 §4.1), synchronously in DER so issuance never waits on an
// async WebCrypto round trip: the code-signing leaf Fulcio issues (docs/certificate-specification.md: empty
// subject, critical SAN, KU digitalSignature, EKU codeSigning, 10-minute validity, Fulcio OID extensions), its
// RFC 6962 precertificate twin (poison extension), and the self-signed root / intermediate made on first start.

import type { KeyObject } from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';
import type { Signer } from '../crypto/index.js';
import { spkiDer } from '../crypto/index.js';

import {
  bitString,
  boolean,
  children,
  explicit,
  implicit,
  lengthSize,
  NULL,
  octetString,
  oid,
  parseDer,
  readBitString,
  seq,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8,
  writeHeader,
} from '../formats/index.js';

export { toPem } from '../formats/index.js';

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  ctPoison: '1.3.6.1.4.1.11129.2.4.3',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
  fulcioOtherName: '1.3.6.1.4.1.57264.1.7',
} as const;

/** Certificates Fulcio issues are valid for 10 minutes (pkg/ca/common.go MakeX509). */
export const LEAF_VALIDITY_MS = 10 * 60 * 1000;

/** AlgorithmIdentifier for signatures made by `key` (RFC 5758 §3.2 ECDSA: parameters absent; RFC 8410). */
export function signatureAlgorithm(key: KeyObject): Buffer {
  if (key.asymmetricKeyType === 'ed25519') return seq(oid('1.3.101.112'));
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return seq(oid('1.2.840.10045.4.3.2'));
    if (curve === 'secp384r1') return seq(oid('1.2.840.10045.4.3.3'));
  }
  throw new Error(`CA signing key type ${key.asymmetricKeyType} is not supported`);
}

export interface Extension {
  oid: string;
  critical?: boolean;
  /** The extnValue contents (the DER of the extension's own value). */
  value: Buffer;
}

export function encodeExtension(ext: Extension): Buffer {
  return ext.critical
    ? seq(oid(ext.oid), boolean(true), octetString(ext.value))
    : seq(oid(ext.oid), octetString(ext.value));
}

/** A Name with O and CN (RFC 5280 §4.1.2.4), each in its own RDN. */
export function name(organization: string, commonName: string): Buffer {
  return seq(
    set(seq(oid(OID.organization), utf8(organization))),
    set(seq(oid(OID.commonName), utf8(commonName))),
  );
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents. */
export function subjectKeyId(spki: Buffer): Buffer {
  const [, key] = children(parseDer(spki));
  return createHash('sha1').update(readBitString(key)).digest();
}

const SERIAL_BYTES = 20;
/** Random bytes for serials, drawn from the CSPRNG a few hundred serials at a time (a call costs far more). */
let serialPool = Buffer.alloc(0);
let serialOffset = 0;

/** 20 random bytes, positive and without a leading zero octet (RFC 5280 §4.1.2.2, CA/B BR §7.1). */
export function randomSerial(): Buffer {
  if (serialOffset + SERIAL_BYTES > serialPool.length) {
    serialPool = randomBytes(SERIAL_BYTES * 256);
    serialOffset = 0;
  }
  // A copy: the pool is refilled, never reused, but callers own what they get.
  const b = Buffer.from(serialPool.subarray(serialOffset, serialOffset + SERIAL_BYTES));
  serialOffset += SERIAL_BYTES;
  b[0] = (b[0] & 0x7f) | 0x40;
  return b;
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } */
export async function signTbs(tbs: Buffer, signer: Signer): Promise<Buffer> {
  const signature = await signer.sign(tbs);
  return seq(tbs, signatureAlgorithm(signer.publicKey), bitString(signature));
}

function tbsCertificate(fields: {
  serial: Buffer;
  sigAlg: Buffer;
  issuer: Buffer;
  notBefore: Date;
  notAfter: Date;
  subject: Buffer;
  spki: Buffer;
  extensions: Buffer[];
}): Buffer {
  return seq(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(fields.serial),
    fields.sigAlg,
    fields.issuer,
    seq(time(fields.notBefore), time(fields.notAfter)),
    fields.subject,
    fields.spki,
    explicit(3, seq(...fields.extensions)),
  );
}

// ---- CA certificates (generated once) ----

export interface CaCertificateSpec {
  subject: Buffer;
  issuer: Buffer;
  /** DER SPKI of the certified key. */
  spki: Buffer;
  /** SKI of the issuing key (the same as the certified key's for a self-signed root). */
  authorityKeyId: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** pathLenConstraint; omitted for the root. */
  pathLen?: number;
  /** Intermediates carry EKU codeSigning so EKU chaining holds (fulcio pkg/ca VerifyCertChain). */
  codeSigningEku: boolean;
}

export async function buildCaCertificate(spec: CaCertificateSpec, signer: Signer): Promise<Buffer> {
  const basic =
    spec.pathLen === undefined ? seq(boolean(true)) : seq(boolean(true), smallInteger(spec.pathLen));
  const extensions: Extension[] = [
    // keyCertSign (bit 5) + cRLSign (bit 6): 0b0000011x -> 0x06 with 1 unused bit.
    { oid: OID.keyUsage, critical: true, value: bitString(Buffer.from([0x06]), 1) },
  ];
  if (spec.codeSigningEku) extensions.push({ oid: OID.extKeyUsage, value: seq(oid(OID.codeSigning)) });
  extensions.push(
    { oid: OID.basicConstraints, critical: true, value: basic },
    { oid: OID.subjectKeyIdentifier, value: octetString(subjectKeyId(spec.spki)) },
    { oid: OID.authorityKeyIdentifier, value: seq(implicit(0, spec.authorityKeyId)) },
  );
  const tbs = tbsCertificate({
    serial: randomSerial(),
    sigAlg: signatureAlgorithm(signer.publicKey),
    issuer: spec.issuer,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    subject: spec.subject,
    spki: spec.spki,
    extensions: extensions.map(encodeExtension),
  });
  return signTbs(tbs, signer);
}

// ---- leaf certificates ----

export type SubjectAltName =
  | { type: 'email'; value: string }
  | { type: 'uri'; value: string }
  /** Fulcio's username identity: OtherName 1.3.6.1.4.1.57264.1.7 holding a UTF8String. */
  | { type: 'otherName'; value: string };

function generalNames(san: SubjectAltName): Buffer {
  switch (san.type) {
    case 'email':
      return seq(implicit(1, Buffer.from(san.value, 'ascii'))); // rfc822Name [1] IA5String
    case 'uri':
      return seq(implicit(6, Buffer.from(san.value, 'ascii'))); // uniformResourceIdentifier [6] IA5String
    case 'otherName':
      // otherName [0] IMPLICIT SEQUENCE { type-id, [0] EXPLICIT value }
      return seq(explicit(0, oid(OID.fulcioOtherName), explicit(0, utf8(san.value))));
  }
}

export interface LeafRequest {
  spki: Buffer;
  san: SubjectAltName;
  /** Fulcio identity extensions, already in order (identity.ts). */
  extensions: Extension[];
  notBefore: Date;
}

export interface IssuingCa {
  signer: Signer;
  /** The intermediate's subject Name, the leaf's issuer. */
  subject: Buffer;
  keyId: Buffer;
  /** SHA-256 of the intermediate's SPKI (RFC 6962 issuer_key_hash). */
  issuerKeyHash: Buffer;
  /** Encoded pieces that are the same in every leaf this CA issues. */
  constants: {
    version: Buffer;
    sigAlg: Buffer;
    /** KU and EKU extensions, encoded: the first two of every leaf. */
    fixedExtensionsHead: Buffer;
    authorityKeyIdExt: Extension;
    poison: Buffer;
    emptySubject: Buffer;
  };
}

const BOOLEAN_TRUE = Buffer.from([0x01, 0x01, 0xff]);

/**
 * The concatenated DER of `exts` (each an Extension SEQUENCE, RFC 5280 §4.1), written into one allocation: a
 * leaf has twenty-odd extensions, and encoding each through nested TLV helpers allocates several buffers apiece.
 */
export function encodeExtensions(exts: readonly Extension[]): Buffer {
  let total = 0;
  const sizes: number[] = [];
  for (const e of exts) {
    const octet = 1 + lengthSize(e.value.length) + e.value.length;
    const body = oid(e.oid).length + (e.critical ? BOOLEAN_TRUE.length : 0) + octet;
    sizes.push(body);
    total += 1 + lengthSize(body) + body;
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i];
    pos = writeHeader(out, pos, 0x30, sizes[i]);
    const id = oid(e.oid);
    id.copy(out, pos);
    pos += id.length;
    if (e.critical) {
      BOOLEAN_TRUE.copy(out, pos);
      pos += BOOLEAN_TRUE.length;
    }
    pos = writeHeader(out, pos, 0x04, e.value.length);
    e.value.copy(out, pos);
    pos += e.value.length;
  }
  return out;
}

/** TBSCertificate ::= SEQUENCE { <head fields> [3] EXPLICIT SEQUENCE { <extensions> [last] } }, one allocation. */
function tbsFrom(head: Buffer, extensions: Buffer, last?: Buffer): Buffer {
  const extLen = extensions.length + (last?.length ?? 0);
  const explicitLen = 1 + lengthSize(extLen) + extLen;
  const bodyLen = head.length + 1 + lengthSize(explicitLen) + explicitLen;
  const out = Buffer.allocUnsafe(1 + lengthSize(bodyLen) + bodyLen);
  let pos = writeHeader(out, 0, 0x30, bodyLen);
  head.copy(out, pos);
  pos += head.length;
  pos = writeHeader(out, pos, 0xa3, explicitLen);
  pos = writeHeader(out, pos, 0x30, extLen);
  extensions.copy(out, pos);
  if (last) last.copy(out, pos + extensions.length);
  return out;
}

/**
 * The precertificate TBS, the same TBS without poison (what the CT log signs, RFC 6962 §3.2) and a function
 * that produces the final TBS with the SCT list appended. Both share every other byte, so the final
 * certificate minus its SCT extension equals the precertificate minus its poison, as clients check.
 */
export function buildLeafTbs(ca: IssuingCa, req: LeafRequest) {
  const k = ca.constants;
  const notAfter = new Date(req.notBefore.getTime() + LEAF_VALIDITY_MS);
  const head = Buffer.concat([
    k.version,
    unsignedInteger(randomSerial()),
    k.sigAlg,
    ca.subject,
    seq(time(req.notBefore), time(notAfter)),
    k.emptySubject,
    req.spki,
  ]);
  const extensions = Buffer.concat([
    k.fixedExtensionsHead,
    encodeExtensions([
      { oid: OID.subjectKeyIdentifier, value: octetString(subjectKeyId(req.spki)) },
      k.authorityKeyIdExt,
      // RFC 5280 §4.2.1.6: with an empty subject the SAN is critical.
      { oid: OID.subjectAltName, critical: true, value: generalNames(req.san) },
      ...req.extensions,
    ]),
  ]);
  return {
    precertTbs: tbsFrom(head, extensions, k.poison),
    tbsWithoutPoison: tbsFrom(head, extensions),
    finalTbs: (sctListValue: Buffer) =>
      tbsFrom(head, extensions, encodeExtension({ oid: OID.sctList, value: sctListValue })),
  };
}

export function issuingCa(signer: Signer, subject: Buffer): IssuingCa {
  const spki = spkiDer(signer.publicKey);
  const keyId = subjectKeyId(spki);
  return {
    signer,
    subject,
    keyId,
    issuerKeyHash: createHash('sha256').update(spki).digest(),
    constants: {
      version: explicit(0, smallInteger(2)), // v3
      sigAlg: signatureAlgorithm(signer.publicKey),
      fixedExtensionsHead: encodeExtensions([
        // digitalSignature (bit 0): 0x80 with 7 unused bits.
        { oid: OID.keyUsage, critical: true, value: bitString(Buffer.from([0x80]), 7) },
        { oid: OID.extKeyUsage, value: seq(oid(OID.codeSigning)) },
      ]),
      authorityKeyIdExt: { oid: OID.authorityKeyIdentifier, value: seq(implicit(0, keyId)) },
      poison: encodeExtension({ oid: OID.ctPoison, critical: true, value: NULL }),
      emptySubject: seq(),
    },
  };
}

/** RFC 7468 §2: base64 in lines of 64 characters, each line ended by `nl`. */
function pemText(der: Uint8Array, label: string, nl: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}${nl}`;
  return `-----BEGIN ${label}-----${nl}${body}-----END ${label}-----`;
}

/**
 * The PEM of a certificate (no final newline) as a JSON string literal, made directly: base64 and the armour
 * lines need no escaping but the newlines, so JSON.stringify's scan of the whole text is not needed.
 */
export function pemJsonString(der: Uint8Array): string {
  return `"${pemText(der, 'CERTIFICATE', '\\n')}"`;
}
