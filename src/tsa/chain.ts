// The timestamp authority's keys and certificates in DATA/tsa, made on first start and reused after: a
// self-signed ECDSA P-384 root and an ECDSA P-256 signing certificate whose only extended key usage is
// id-kp-timeStamping, marked critical as RFC 3161 §2.3 requires. The certificates are made once, so a library
// (pkijs) writes them; the per-timestamp work is in authority.ts.
import { createPublicKey, type KeyObject, sign } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { keyValidFrom, loadOrCreatePrivateKey, writeFileAtomic } from '../crypto/index.js';
import {
  certificatePublicKey,
  certificateSignedBy,
  OID_TIME_STAMPING,
  oid,
  parseCertificate,
  pemToDer,
  seq,
  set,
  toPem,
  utf8,
} from '../formats/index.js';

export const TSA_DIR = 'tsa';
const ROOT_YEARS = 10;
const SIGNING_YEARS = 5;
const ORGANIZATION = 'sigil';

export interface TsaChain {
  /** The signing certificate first, then the root (trusted_root.json's certChain order). */
  certificates: Buffer[];
  signingKey: KeyObject;
  /** When the root became valid: the trusted root's validFor.start for this TSA. */
  validFrom: Date;
}

const OID = {
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
};

/** O=sigil, CN=… as two RDNs, the shape the CA's names have (a pkijs-built Name would put both in one RDN). */
function distinguishedName(commonName: string): pkijs.RelativeDistinguishedNames {
  const rdn = (type: string, value: string) => set(seq(oid(type), utf8(value)));
  return pkijs.RelativeDistinguishedNames.fromBER(
    seq(rdn(OID.organization, ORGANIZATION), rdn(OID.commonName, commonName)),
  );
}

/** A critical extension: RFC 3161 §2.3 asks it of the EKU; the others are critical as RFC 5280 recommends. */
function critical(extnID: string, value: asn1js.AsnType): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical: true, extnValue: value.toBER(false) });
}

/** KeyUsage bits (RFC 5280 §4.2.1.3) in one byte: bit 0 digitalSignature = 0x80, 5 keyCertSign = 0x04, 6 cRLSign = 0x02. */
function keyUsage(bits: number): asn1js.BitString {
  let unused = 0;
  while (unused < 7 && !(bits & (1 << unused))) unused++;
  return new asn1js.BitString({ valueHex: new Uint8Array([bits]), unusedBits: unused });
}

interface CertSpec {
  serial: number;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: pkijs.Extension[];
}

/** A certificate signed with ECDSA P-384 / SHA-384 by `issuerKey` (signed here with node:crypto). */
function makeCertificate(spec: CertSpec, issuerKey: KeyObject): Buffer {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ value: spec.serial });
  cert.subject = distinguishedName(spec.subject);
  cert.issuer = distinguishedName(spec.issuer);
  cert.notBefore.value = spec.notBefore;
  cert.notAfter.value = spec.notAfter;
  cert.extensions = spec.extensions;
  cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(
    createPublicKey(spec.publicKey).export({ type: 'spki', format: 'der' }),
  );
  const algorithm = new pkijs.AlgorithmIdentifier({ algorithmId: OID.ecdsaWithSha384 });
  cert.signature = algorithm;
  cert.signatureAlgorithm = algorithm;
  const tbs = Buffer.from(cert.encodeTBS().toBER(false));
  cert.tbsView = new Uint8Array(tbs);
  cert.signatureValue = new asn1js.BitString({ valueHex: sign('sha384', tbs, issuerKey) });
  return Buffer.from(cert.toSchema(false).toBER(false));
}

function years(from: Date, n: number): Date {
  const d = new Date(from);
  d.setUTCFullYear(d.getUTCFullYear() + n);
  return d;
}

/** Reads the certificate at `path`, or writes the one `make()` gives (never replacing an existing file). */
async function loadOrCreateCert(path: string, make: () => Promise<Buffer>): Promise<Buffer> {
  try {
    const [der] = pemToDer(await readFile(path, 'utf8'));
    if (!der) throw new Error(`${path} holds no CERTIFICATE block`);
    return der;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFileAtomic(path, toPem(await make()), { exclusive: true });
  return loadOrCreateCert(path, make);
}

/**
 * The TSA's certificates in a data dir as the trust files name them, or undefined before the TSA first started
 * there (nothing is made here: the CA's side of a split deployment only reads).
 */
export async function readTsaCertificates(
  dataDir: string,
): Promise<{ certificates: Buffer[]; validFrom: Date } | undefined> {
  const dir = join(dataDir, TSA_DIR);
  try {
    const read = async (name: string) => pemToDer(await readFile(join(dir, name), 'utf8'))[0];
    const [signing, root] = await Promise.all([read('signing.pem'), read('root.pem')]);
    if (!signing || !root) return undefined;
    return { certificates: [signing, root], validFrom: parseCertificate(root).notBefore };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Opens (or makes) the TSA's chain under `<dataDir>/tsa/`, checking that the files belong together. */
export async function openTsaChain(dataDir: string): Promise<TsaChain> {
  const dir = join(dataDir, TSA_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const rootKeyPath = join(dir, 'root-key.pem');
  const rootKey = await loadOrCreatePrivateKey(rootKeyPath, 'ecdsa-p384');
  const signingKey = await loadOrCreatePrivateKey(join(dir, 'signing-key.pem'), 'ecdsa-p256');
  // Backdated a minute, as the CA's are, for clients whose clocks run a little behind.
  const notBefore = new Date((await keyValidFrom(rootKeyPath)).getTime() - 60_000);
  const rootName = 'sigil TSA root';
  const rootDer = await loadOrCreateCert(join(dir, 'root.pem'), async () =>
    makeCertificate(
      {
        serial: 1,
        subject: rootName,
        issuer: rootName,
        notBefore,
        notAfter: years(notBefore, ROOT_YEARS),
        publicKey: rootKey,
        extensions: [
          critical(
            OID.basicConstraints,
            new pkijs.BasicConstraints({ cA: true, pathLenConstraint: 0 }).toSchema(),
          ),
          critical(OID.keyUsage, keyUsage(0x06)),
        ],
      },
      rootKey,
    ),
  );
  const signingDer = await loadOrCreateCert(join(dir, 'signing.pem'), async () =>
    makeCertificate(
      {
        serial: 2,
        subject: 'sigil TSA',
        issuer: rootName,
        notBefore,
        notAfter: years(notBefore, SIGNING_YEARS),
        publicKey: signingKey,
        extensions: [
          critical(OID.basicConstraints, new pkijs.BasicConstraints({ cA: false }).toSchema()),
          critical(OID.keyUsage, keyUsage(0x80)),
          critical(OID.extKeyUsage, new pkijs.ExtKeyUsage({ keyPurposes: [OID_TIME_STAMPING] }).toSchema()),
        ],
      },
      rootKey,
    ),
  );
  checkChain(rootDer, signingDer, signingKey);
  return { certificates: [signingDer, rootDer], signingKey, validFrom: parseCertificate(rootDer).notBefore };
}

/** Refuses to start on files that do not belong together (a key or certificate replaced by hand). */
function checkChain(rootDer: Buffer, signingDer: Buffer, signingKey: KeyObject): void {
  const root = parseCertificate(rootDer);
  const leaf = parseCertificate(signingDer);
  const rootKey = certificatePublicKey(root);
  if (!certificateSignedBy(root, rootKey)) throw new Error('tsa/root.pem is not self-signed by its key');
  if (!certificateSignedBy(leaf, rootKey)) throw new Error('tsa/signing.pem is not signed by the TSA root');
  if (!certificatePublicKey(leaf).equals(createPublicKey(signingKey)))
    throw new Error('tsa/signing.pem does not match tsa/signing-key.pem');
  if (leaf.extKeyUsage?.length !== 1 || leaf.extKeyUsage[0] !== OID_TIME_STAMPING)
    throw new Error('tsa/signing.pem must have id-kp-timeStamping as its only extended key usage');
}
