// The key a certificate is requested for: parsing the SubjectPublicKeyInfo a client sends (PEM or DER), the
// key types and sizes Fulcio accepts (ECDSA P-256/384/521, RSA 2048–4096, Ed25519; sigstore/sigstore goodkey
// and the default algorithm registry), proof of possession (a signature over the token's subject, fulcio.proto
// PublicKeyRequest) and PKCS#10 CSRs (RFC 2986) whose self-signature is the proof.
import { createPublicKey, KeyObject, verify, webcrypto } from 'node:crypto';
import {
  children,
  DerError,
  expectTag,
  type DerNode as Node,
  parseDer,
  readBitString,
  readOid,
  TAG,
} from '../ct/index.js';
import { CaError } from './errors.js';

const EC_CURVES: Record<string, { crv: string; hash: string; size: number }> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', hash: 'sha256', size: 32 },
  '1.3.132.0.34': { crv: 'P-384', hash: 'sha384', size: 48 },
  '1.3.132.0.35': { crv: 'P-521', hash: 'sha512', size: 66 },
};
const OID_EC = '1.2.840.10045.2.1';
const OID_RSA = '1.2.840.113549.1.1.1';
const OID_ED25519 = '1.3.101.112';

export interface ClientKey {
  key: KeyObject;
  /** Canonical DER SubjectPublicKeyInfo, as it goes into the certificate. */
  spki: Buffer;
  /** Hash for proof-of-possession signatures with this key (null: Ed25519 signs the message itself). */
  hash: string | null;
}

/** Decodes PEM (`PUBLIC KEY`/`CERTIFICATE REQUEST`) or passes DER through. */
export function pemOrDer(input: Buffer, label: string): Buffer {
  const text = input.subarray(0, 64).toString('latin1');
  if (!text.includes('-----BEGIN')) return input;
  const pem = input.toString('latin1');
  const m = pem.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`));
  if (!m) throw new CaError(400, `expected a PEM block of type ${label}`);
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

/**
 * An uncompressed EC point through WebCrypto's raw import: OpenSSL checks the point is on the curve
 * (EC_POINT_oct2point) and WebCrypto then runs the full public-key check (checkEcKeyData: range, on curve,
 * n·Q = ∞), the same checks a JWK import makes, at about two thirds of the CPU (no SPKI decoder, no JWK
 * base64url round trip). This is on every issuance.
 */
async function importEcPoint(point: Buffer, crv: string): Promise<KeyObject> {
  const key = await webcrypto.subtle.importKey('raw', point, { name: 'ECDSA', namedCurve: crv }, true, [
    'verify',
  ]);
  return KeyObject.from(key);
}

/** Parses and vets a DER SubjectPublicKeyInfo. */
export async function parseClientKey(spki: Buffer): Promise<ClientKey> {
  let alg: string;
  let params: Node | undefined;
  let bits: Buffer;
  try {
    const [algId, keyBits] = children(expectTag(parseDer(spki), TAG.SEQUENCE, 'SubjectPublicKeyInfo'));
    const algParts = children(expectTag(algId, TAG.SEQUENCE, 'AlgorithmIdentifier'));
    alg = readOid(algParts[0]);
    params = algParts[1];
    bits = readBitString(keyBits);
  } catch (err) {
    throw new CaError(400, `the public key could not be parsed: ${(err as Error).message}`);
  }
  if (alg === OID_EC) {
    const curveOid = params?.tag === TAG.OID ? readOid(params) : '';
    const curve = EC_CURVES[curveOid];
    if (!curve) throw new CaError(400, `unsupported key type: elliptic curve ${curveOid || 'unnamed'}`);
    let key: KeyObject;
    try {
      key =
        bits[0] === 0x04 && bits.length === 1 + 2 * curve.size
          ? await importEcPoint(bits, curve.crv)
          : createPublicKey({ key: spki, format: 'der', type: 'spki' });
    } catch {
      throw new CaError(400, 'the public key could not be parsed: the point is not on the curve');
    }
    return { key, spki, hash: curve.hash };
  }
  if (alg === OID_RSA || alg === OID_ED25519) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    } catch (err) {
      throw new CaError(400, `the public key could not be parsed: ${(err as Error).message}`);
    }
    if (alg === OID_ED25519) return { key, spki, hash: null };
    const bitsLen = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bitsLen < 2048 || bitsLen > 4096)
      throw new CaError(
        400,
        `the public key is insecure: RSA keys must be 2048 to 4096 bits, got ${bitsLen}`,
      );
    return { key, spki, hash: 'sha256' };
  }
  throw new CaError(400, `unsupported key type: algorithm ${alg}`);
}

/** Reads the `content` of a PublicKeyRequest: PEM text, or base64 of the DER SPKI. */
export async function clientKeyFromContent(content: string): Promise<ClientKey> {
  if (content.length === 0) throw new CaError(400, 'publicKeyRequest.publicKey.content is empty');
  const raw = content.includes('-----BEGIN')
    ? pemOrDer(Buffer.from(content, 'latin1'), 'PUBLIC KEY')
    : Buffer.from(content, 'base64');
  return parseClientKey(raw);
}

/** fulcio.proto: proof_of_possession is a signature over the challenge claim (`sub`, or `email`). */
export function checkProofOfPossession(key: ClientKey, challenge: string, proof: Buffer): void {
  let ok = false;
  try {
    ok = proof.length > 0 && verify(key.hash, Buffer.from(challenge, 'utf8'), key.key, proof);
  } catch {
    ok = false;
  }
  if (!ok)
    throw new CaError(400, 'the proof of possession could not be verified: it must sign the token subject');
}

const CSR_SIGNATURE_HASHES: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null,
};

/**
 * Parses a PKCS#10 CSR (RFC 2986 §4), PEM or DER, and checks its self-signature. Only the key is used;
 * fulcio.proto says every other CSR field is ignored.
 */
export async function clientKeyFromCsr(input: Buffer): Promise<ClientKey> {
  let info: Node;
  let sigAlg: string;
  let signature: Buffer;
  let spkiNode: Node;
  try {
    const der = pemOrDer(input, 'CERTIFICATE REQUEST');
    const [infoNode, algNode, sigNode] = children(expectTag(parseDer(der), TAG.SEQUENCE, 'CSR'));
    info = expectTag(infoNode, TAG.SEQUENCE, 'CertificationRequestInfo');
    const fields = children(info);
    spkiNode = expectTag(fields[2], TAG.SEQUENCE, 'subjectPKInfo');
    sigAlg = readOid(children(expectTag(algNode, TAG.SEQUENCE, 'signatureAlgorithm'))[0]);
    signature = readBitString(expectTag(sigNode, TAG.BIT_STRING, 'signature'));
  } catch (err) {
    if (err instanceof CaError) throw err;
    if (err instanceof DerError || err instanceof TypeError)
      throw new CaError(400, `the certificate signing request could not be parsed: ${err.message}`);
    throw err;
  }
  const key = await parseClientKey(Buffer.from(spkiNode.raw));
  const hash = CSR_SIGNATURE_HASHES[sigAlg];
  if (hash === undefined) throw new CaError(400, `unsupported CSR signature algorithm ${sigAlg}`);
  let ok = false;
  try {
    ok = verify(hash, info.raw, key.key, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new CaError(400, 'the certificate signing request signature could not be verified');
  return key;
}
