// The CA's key hierarchy in the data dir, generated on first start and reused after: a self-signed ECDSA P-384
// root and an ECDSA P-256 intermediate (fast to sign with) that issues the leaves. Keys sit behind the Signer
// interface (src/crypto), so a KMS or HSM signer can be passed in instead of the local files.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  loadOrCreatePrivateKey,
  localSigner,
  type Signer,
  spkiDer,
  writeFileAtomic,
} from '../crypto/index.js';
import { certificatePublicKey, certificateSignedBy, parseCertificate, pemToDer } from '../formats/index.js';
import { buildCaCertificate, type IssuingCa, issuingCa, name, subjectKeyId, toPem } from './certificate.js';

export const CA_ORGANIZATION = 'sigil';
const ROOT_VALIDITY_YEARS = 10;
const INTERMEDIATE_VALIDITY_YEARS = 5;

export interface CaHierarchy {
  issuing: IssuingCa;
  rootDer: Buffer;
  intermediateDer: Buffer;
  /** When the root became valid: the trusted root's validFor.start. */
  validFrom: Date;
}

function years(from: Date, n: number): Date {
  const d = new Date(from);
  d.setUTCFullYear(d.getUTCFullYear() + n);
  return d;
}

/** The certificate in a PEM file, checked to parse. */
function certificateDer(path: string, pem: string): Buffer {
  const [der] = pemToDer(pem);
  if (!der) throw new Error(`${path} holds no CERTIFICATE block`);
  parseCertificate(der);
  return der;
}

/** Reads `path`, or creates it with `make()` (atomically, never replacing an existing file). */
async function loadOrCreateCert(path: string, make: () => Promise<Buffer>): Promise<Buffer> {
  try {
    return certificateDer(path, await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFileAtomic(path, toPem(await make()), { exclusive: true });
  return certificateDer(path, await readFile(path, 'utf8'));
}

export interface HierarchySigners {
  root: Signer;
  intermediate: Signer;
}

/** Loads (or makes) the root and intermediate certificates for the given signers under `<dataDir>/ca/`. */
export async function openHierarchy(dataDir: string, signers?: HierarchySigners): Promise<CaHierarchy> {
  const dir = join(dataDir, 'ca');
  await mkdir(dir, { recursive: true });
  const root =
    signers?.root ?? localSigner(await loadOrCreatePrivateKey(join(dir, 'root-key.pem'), 'ecdsa-p384'));
  const intermediate =
    signers?.intermediate ??
    localSigner(await loadOrCreatePrivateKey(join(dir, 'intermediate-key.pem'), 'ecdsa-p256'));
  const rootName = name(CA_ORGANIZATION, 'sigil root');
  const intermediateName = name(CA_ORGANIZATION, 'sigil intermediate');
  const rootSpki = spkiDer(root.publicKey);
  // Backdate a little so a client whose clock is slightly behind still accepts a fresh hierarchy.
  const now = new Date(Date.now() - 60_000);
  const rootDer = await loadOrCreateCert(join(dir, 'root.pem'), () =>
    buildCaCertificate(
      {
        subject: rootName,
        issuer: rootName,
        spki: rootSpki,
        authorityKeyId: subjectKeyId(rootSpki),
        notBefore: now,
        notAfter: years(now, ROOT_VALIDITY_YEARS),
        codeSigningEku: false,
      },
      root,
    ),
  );
  const intermediateDer = await loadOrCreateCert(join(dir, 'intermediate.pem'), () =>
    buildCaCertificate(
      {
        subject: intermediateName,
        issuer: rootName,
        spki: spkiDer(intermediate.publicKey),
        authorityKeyId: subjectKeyId(rootSpki),
        notBefore: now,
        notAfter: years(now, INTERMEDIATE_VALIDITY_YEARS),
        pathLen: 0,
        codeSigningEku: true,
      },
      root,
    ),
  );
  checkHierarchy(rootDer, intermediateDer, intermediate);
  return {
    issuing: issuingCa(intermediate, intermediateName),
    rootDer,
    intermediateDer,
    validFrom: parseCertificate(rootDer).notBefore,
  };
}

/** Refuses to start with a certificate that does not belong to its key (e.g. a key file replaced by hand). */
function checkHierarchy(rootDer: Buffer, intermediateDer: Buffer, intermediate: Signer): void {
  const rootCert = parseCertificate(rootDer);
  const interCert = parseCertificate(intermediateDer);
  const rootKey = certificatePublicKey(rootCert);
  if (!certificateSignedBy(rootCert, rootKey)) throw new Error('ca/root.pem is not self-signed by its key');
  if (!certificateSignedBy(interCert, rootKey))
    throw new Error('ca/intermediate.pem is not signed by the root');
  if (!certificatePublicKey(interCert).equals(intermediate.publicKey))
    throw new Error('ca/intermediate.pem does not match the intermediate signing key');
}
