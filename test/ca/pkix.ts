// Certificate parsing for the tests through pkijs, an implementation independent of the CA's own DER code,
// reduced to the fields the tests check.
import { webcrypto } from 'node:crypto';
import type * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

pkijs.setEngine(
  'node',
  new pkijs.CryptoEngine({
    name: 'node',
    crypto: webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'],
  }),
);

const NAMES: Record<string, string> = { '2.5.4.10': 'O', '2.5.4.3': 'CN' };
const GENERAL_NAME_TYPES: Record<number, string> = {
  0: 'otherName',
  1: 'email',
  2: 'dns',
  6: 'url',
  7: 'ip',
};

export interface Cert {
  der: Buffer;
  raw: pkijs.Certificate;
  subject: string;
  issuer: string;
  serialHex: string;
  signatureOid: string;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: { oid: string; critical: boolean; value: Buffer }[];
  ext(oid: string): { critical: boolean; value: Buffer } | undefined;
  /** KeyUsage bits as named flags. */
  keyUsage(): string[];
  eku(): string[];
  san(): [string, string][];
  authorityKeyId(): string | undefined;
  subjectKeyId(): string | undefined;
  basicConstraints(): { ca: boolean; pathLen?: number } | undefined;
  verifiedBy(issuer: Cert): Promise<boolean>;
}

function nameString(n: pkijs.RelativeDistinguishedNames): string {
  return n.typesAndValues.map((tv) => `${NAMES[tv.type] ?? tv.type}=${tv.value.valueBlock.value}`).join(', ');
}

const KU = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
];

export function parseCert(pemOrDer: string | Uint8Array): Cert {
  const der =
    typeof pemOrDer === 'string'
      ? Buffer.from(pemOrDer.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')
      : Buffer.from(pemOrDer);
  const raw = pkijs.Certificate.fromBER(der);
  const extensions = (raw.extensions ?? []).map((e) => ({
    oid: e.extnID,
    critical: e.critical,
    value: Buffer.from(e.extnValue.valueBlock.valueHexView),
  }));
  const parsed = (oid: string) => raw.extensions?.find((e) => e.extnID === oid)?.parsedValue;
  return {
    der,
    raw,
    subject: nameString(raw.subject),
    issuer: nameString(raw.issuer),
    serialHex: Buffer.from(raw.serialNumber.valueBlock.valueHexView).toString('hex'),
    signatureOid: raw.signatureAlgorithm.algorithmId,
    notBefore: raw.notBefore.value,
    notAfter: raw.notAfter.value,
    spki: Buffer.from(raw.subjectPublicKeyInfo.toSchema().toBER()),
    extensions,
    ext: (oid) => extensions.find((e) => e.oid === oid),
    keyUsage() {
      const bits = parsed('2.5.29.15') as asn1js.BitString | undefined;
      if (!bits) return [];
      const bytes = Buffer.from(bits.valueBlock.valueHexView);
      return KU.filter((_, i) => (bytes[i >> 3] ?? 0) & (0x80 >> (i & 7)));
    },
    eku: () => (parsed('2.5.29.37') as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [],
    san: () =>
      ((parsed('2.5.29.17') as pkijs.AltName | undefined)?.altNames ?? []).map((n) => [
        GENERAL_NAME_TYPES[n.type] ?? String(n.type),
        typeof n.value === 'string' ? n.value : JSON.stringify(n.value),
      ]),
    authorityKeyId() {
      const aki = parsed('2.5.29.35') as pkijs.AuthorityKeyIdentifier | undefined;
      return aki?.keyIdentifier
        ? Buffer.from(aki.keyIdentifier.valueBlock.valueHexView).toString('hex')
        : undefined;
    },
    subjectKeyId() {
      const ski = parsed('2.5.29.14') as asn1js.OctetString | undefined;
      return ski ? Buffer.from(ski.valueBlock.valueHexView).toString('hex') : undefined;
    },
    basicConstraints() {
      const bc = parsed('2.5.29.19') as pkijs.BasicConstraints | undefined;
      if (!bc) return undefined;
      const pathLen = bc.pathLenConstraint;
      return { ca: bc.cA, pathLen: typeof pathLen === 'number' ? pathLen : undefined };
    },
    verifiedBy: (issuer) => raw.verify(issuer.raw),
  };
}
