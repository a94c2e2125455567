// Decodes an X.509 certificate for display in the explorer: subject and issuer names, validity, the subject
// alternative names, every Fulcio extension by name (sigstore/fulcio docs/oid-info.md) and the embedded SCTs
// (RFC 6962 §3.3). Display only: the signature chain is what `sigil verify` checks; the page shows what the log holds.
import { toHex } from './bytes.js';
import { children, DerError, integerBytes, oid, parse, readTlv, type Tlv, text, time } from './der.js';

/** Fulcio's extensions, 1.3.6.1.4.1.57264.1.N, by N. */
export const FULCIO_EXTENSIONS: Record<number, string> = {
  1: 'Issuer (deprecated)',
  2: 'GitHub Workflow Trigger (deprecated)',
  3: 'GitHub Workflow SHA (deprecated)',
  4: 'GitHub Workflow Name (deprecated)',
  5: 'GitHub Workflow Repository (deprecated)',
  6: 'GitHub Workflow Ref (deprecated)',
  7: 'OtherName SAN',
  8: 'Issuer (V2)',
  9: 'Build Signer URI',
  10: 'Build Signer Digest',
  11: 'Runner Environment',
  12: 'Source Repository URI',
  13: 'Source Repository Digest',
  14: 'Source Repository Ref',
  15: 'Source Repository Identifier',
  16: 'Source Repository Owner URI',
  17: 'Source Repository Owner Identifier',
  18: 'Build Config URI',
  19: 'Build Config Digest',
  20: 'Build Trigger',
  21: 'Run Invocation URI',
  22: 'Source Repository Visibility At Signing',
  23: 'Deployment Environment',
};
const FULCIO_ARC = '1.3.6.1.4.1.57264.1.';

const OTHER_EXTENSIONS: Record<string, string> = {
  '2.5.29.14': 'Subject Key Identifier',
  '2.5.29.15': 'Key Usage',
  '2.5.29.17': 'Subject Alternative Name',
  '2.5.29.19': 'Basic Constraints',
  '2.5.29.35': 'Authority Key Identifier',
  '2.5.29.37': 'Extended Key Usage',
  '1.3.6.1.4.1.11129.2.4.2': 'Embedded SCTs',
  '1.3.6.1.4.1.11129.2.4.3': 'Precertificate Poison',
};

const NAME_ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

export interface SubjectAltName {
  type: 'email' | 'uri' | 'dns' | 'ip' | 'otherName' | 'other';
  value: string;
}

export interface Extension {
  oid: string;
  /** A human name for the OID, when sigil knows it. */
  name?: string;
  critical: boolean;
  /** The value as text where it is text (Fulcio's), else hex. */
  value: string;
}

export interface Sct {
  logId: string;
  timestamp: Date;
}

export interface CertificateInfo {
  serial: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  subjectAltNames: SubjectAltName[];
  /** The OIDC issuer from Fulcio's extension (V2, else V1). */
  oidcIssuer?: string;
  extensions: Extension[];
  scts: Sct[];
}

function name(t: Tlv): string {
  const parts: string[] = [];
  for (const rdn of children(t))
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      const o = oid(type);
      parts.push(`${NAME_ATTRIBUTES[o] ?? o}=${text(value)}`);
    }
  return parts.join(', ');
}

/** GeneralNames (RFC 5280 §4.2.1.6). */
export function generalNames(der: Uint8Array): SubjectAltName[] {
  return children(parse(der)).map((gn): SubjectAltName => {
    switch (gn.tag) {
      case 0x81:
        return { type: 'email', value: text(gn) };
      case 0x82:
        return { type: 'dns', value: text(gn) };
      case 0x86:
        return { type: 'uri', value: text(gn) };
      case 0x87:
        return { type: 'ip', value: Array.from(gn.value).join('.') };
      case 0xa0: {
        // otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }; Fulcio puts a UTF8String there.
        const [typeId, explicit] = children(gn);
        const inner = explicit ? children(explicit)[0] : undefined;
        return { type: 'otherName', value: `${oid(typeId)}: ${inner ? text(inner) : ''}` };
      }
      default:
        return { type: 'other', value: toHex(gn.value) };
    }
  });
}

/** Fulcio's extension value: raw bytes up to …1.6, a DER UTF8String from …1.8 on. */
function fulcioValue(n: number, der: Uint8Array): string {
  if (n >= 8) {
    try {
      return text(parse(der));
    } catch {
      // fall through: shown as bytes
    }
  }
  return new TextDecoder().decode(der);
}

/** The TLS-encoded SignedCertificateTimestampList (RFC 6962 §3.3) inside the extension's OCTET STRING. */
export function embeddedScts(der: Uint8Array): Sct[] {
  const list = parse(der).value;
  const out: Sct[] = [];
  const u16 = (at: number) => list[at] * 256 + list[at + 1];
  let at = 2;
  const end = Math.min(list.length, 2 + u16(0));
  while (at + 2 <= end) {
    const len = u16(at);
    const sct = list.subarray(at + 2, at + 2 + len);
    if (sct.length >= 41) {
      let ms = 0;
      for (let i = 33; i < 41; i++) ms = ms * 256 + sct[i];
      out.push({ logId: toHex(sct.subarray(1, 33)), timestamp: new Date(ms) });
    }
    at += 2 + len;
  }
  return out;
}

function extension(t: Tlv): Extension & { der: Uint8Array } {
  const parts = children(t);
  const o = oid(parts[0]);
  const critical = parts.length === 3 && parts[1].tag === 0x01 && parts[1].value[0] !== 0;
  const der = parts[parts.length - 1].value;
  const n = o.startsWith(FULCIO_ARC) ? Number(o.slice(FULCIO_ARC.length)) : undefined;
  if (n !== undefined && FULCIO_EXTENSIONS[n])
    return { oid: o, name: FULCIO_EXTENSIONS[n], critical, value: fulcioValue(n, der), der };
  return { oid: o, name: OTHER_EXTENSIONS[o], critical, value: toHex(der), der };
}

export function decodeCertificate(der: Uint8Array): CertificateInfo {
  const cert = parse(der);
  if (cert.tag !== 0x30) throw new DerError('a certificate is a SEQUENCE');
  const tbs = children(children(cert)[0]);
  let i = tbs[0].tag === 0xa0 ? 1 : 0;
  const serial = toHex(integerBytes(tbs[i++]));
  i++; // signature algorithm
  const issuer = name(tbs[i++]);
  const [notBefore, notAfter] = children(tbs[i++]).map(time);
  const subject = name(tbs[i++]);
  i++; // subject public key info
  const extensions: (Extension & { der: Uint8Array })[] = [];
  for (; i < tbs.length; i++)
    if (tbs[i].tag === 0xa3) for (const e of children(children(tbs[i])[0])) extensions.push(extension(e));
  const san = extensions.find((e) => e.oid === '2.5.29.17');
  const scts = extensions.find((e) => e.oid === '1.3.6.1.4.1.11129.2.4.2');
  const issuerExt =
    extensions.find((e) => e.oid === `${FULCIO_ARC}8`) ?? extensions.find((e) => e.oid === `${FULCIO_ARC}1`);
  return {
    serial,
    subject,
    issuer,
    notBefore,
    notAfter,
    subjectAltNames: san ? generalNames(san.der) : [],
    oidcIssuer: issuerExt?.value,
    extensions: extensions.map(({ der: _der, ...e }) => e),
    scts: scts ? embeddedScts(scts.der) : [],
  };
}

/** An ASN.1 DER ECDSA signature (SEQUENCE { r, s }) as WebCrypto's fixed-width r || s. */
export function ecdsaDerToP1363(sig: Uint8Array, size = 32): Uint8Array {
  const [r, s] = children(readTlv(sig).tlv).map(integerBytes);
  if (!r || !s || r.length > size || s.length > size) throw new DerError('bad ECDSA signature');
  const out = new Uint8Array(2 * size);
  out.set(r, size - r.length);
  out.set(s, 2 * size - s.length);
  return out;
}
