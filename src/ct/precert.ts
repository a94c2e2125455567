// Taking X.509 certificates apart just enough for a CT log (RFC 6962 §3.1–§3.2): the TBSCertificate, its
// extensions, the poison extension that marks a precertificate, and the issuer key hash that binds an SCT to
// the issuing CA. Pure functions over DER bytes.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  children,
  DerError,
  expectTag,
  explicit,
  type Node,
  parseDer,
  readBitString,
  readOid,
  seq,
  TAG,
} from './der.js';
import { OID_CT_POISON } from './sct.js';

export interface ParsedCertificate {
  der: Buffer;
  tbs: Buffer;
  /** The TBSCertificate's top-level fields, in order. */
  tbsFields: Node[];
  /** DER SubjectPublicKeyInfo of the certificate's key. */
  spki: Buffer;
  /** Encoded issuer and subject Names, for chain checks. */
  issuer: Buffer;
  subject: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  extensions: { oid: string; critical: boolean; value: Buffer; raw: Buffer }[];
}

/** Parses a DER certificate (RFC 5280 §4.1); throws DerError on anything that is not one. */
export function parseCertificate(der: Buffer): ParsedCertificate {
  const [tbsNode, algNode, sigNode] = children(expectTag(parseDer(der), TAG.SEQUENCE, 'certificate'));
  expectTag(tbsNode, TAG.SEQUENCE, 'tbsCertificate');
  const fields = children(tbsNode);
  // With the [0] version present (v3) the fixed fields start at index 1.
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = fields[base + 2];
  const subject = fields[base + 4];
  const spki = fields[base + 5];
  if (!issuer || !subject || !spki) throw new DerError('tbsCertificate is missing fields');
  const extNode = fields.find((f) => f.tag === 0xa3);
  const extensions = extNode
    ? children(expectTag(children(extNode)[0], TAG.SEQUENCE, 'extensions')).map((ext) => {
        const parts = children(ext);
        const critical = parts.length === 3 && parts[1].tag === TAG.BOOLEAN && parts[1].content[0] !== 0;
        const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue').content;
        return { oid: readOid(parts[0]), critical, value, raw: ext.raw };
      })
    : [];
  return {
    der,
    tbs: Buffer.from(tbsNode.raw),
    tbsFields: fields,
    spki: Buffer.from(spki.raw),
    issuer: Buffer.from(issuer.raw),
    subject: Buffer.from(subject.raw),
    signatureAlgorithm: readOid(children(algNode)[0]),
    signature: readBitString(expectTag(sigNode, TAG.BIT_STRING, 'signature')),
    extensions,
  };
}

export function isPrecertificate(cert: ParsedCertificate): boolean {
  return cert.extensions.some((e) => e.oid === OID_CT_POISON && e.critical);
}

/** RFC 6962 §3.2: the precertificate's TBSCertificate with the poison extension removed, re-encoded. */
export function tbsWithoutPoison(cert: ParsedCertificate): Buffer {
  const kept = cert.extensions.filter((e) => e.oid !== OID_CT_POISON).map((e) => e.raw);
  const fields = cert.tbsFields.filter((f) => f.tag !== 0xa3).map((f) => f.raw);
  if (kept.length > 0) fields.push(explicit(3, seq(...kept)));
  return seq(...fields);
}

/** RFC 6962 §3.2 issuer_key_hash: SHA-256 over the issuer's DER SubjectPublicKeyInfo. */
export function issuerKeyHash(issuerSpki: Buffer): Buffer {
  return createHash('sha256').update(issuerSpki).digest();
}

const SIGNATURE_HASHES: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null, // Ed25519
};

/** Whether `cert` carries a valid signature by `issuerKey`. */
export function signedBy(cert: ParsedCertificate, issuerKey: KeyObject): boolean {
  const hash = SIGNATURE_HASHES[cert.signatureAlgorithm];
  if (hash === undefined) return false;
  try {
    return verify(hash, cert.tbs, issuerKey, cert.signature);
  } catch {
    return false;
  }
}

export function publicKeyOf(cert: ParsedCertificate): KeyObject {
  return createPublicKey({ key: cert.spki, format: 'der', type: 'spki' });
}
