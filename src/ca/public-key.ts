// The key a certificate is requested for: parsing the SubjectPublicKeyInfo a client sends (PEM or DER), the
// key types and sizes Fulcio accepts (ECDSA P-256/384/521, RSA 2048–4096, Ed25519; sigstore/sigstore goodkey
// and the default algorithm registry), proof of possession (a signature over the token's subject, fulcio.proto
// PublicKeyRequest) and PKCS#10 CSRs (RFC 2986) whose self-signature is the proof.
import { createHash, createPublicKey, KeyObject, verify, webcrypto } from 'node:crypto';
import { nativeCrypto } from '../crypto/index.js';
import {
  children,
  DerError,
  expectTag,
  type Node,
  parseDer,
  readBitString,
  readOid,
  signatureAlgorithmHash,
  TAG,
} from '../formats/index.js';
import { CaError } from './errors.js';

/** nativeId: the curve's number in the native ECDSA verifier (src/crypto/native.ts), which has P-256/384 only. */
const EC_CURVES: Record<string, { crv: string; hash: string; size: number; nativeId?: number }> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', hash: 'sha256', size: 32, nativeId: 1 },
  '1.3.132.0.34': { crv: 'P-384', hash: 'sha384', size: 48, nativeId: 2 },
  '1.3.132.0.35': { crv: 'P-521', hash: 'sha512', size: 66 },
};
const OID_EC = '1.2.840.10045.2.1';
const OID_RSA = '1.2.840.113549.1.1.1';
const OID_ED25519 = '1.3.101.112';

/**
 * A client key, checked to be one Fulcio accepts. An uncompressed P-256/P-384 point is kept as its bytes and
 * only ever used through the native verifier (no KeyObject); every other key is a KeyObject.
 */
export type ClientKey = {
  /** Canonical DER SubjectPublicKeyInfo, as it goes into the certificate. */
  spki: Buffer;
  /** Hash for proof-of-possession signatures with this key (null: Ed25519 signs the message itself). */
  hash: string | null;
} & ({ key: KeyObject } | { point: Buffer; crv: string; nativeId: number });

/** One compiled armour pattern per label: building a RegExp on every request showed up in the worker's profile. */
const PEM_PATTERNS = new Map<string, RegExp>();
function pemPattern(label: string): RegExp {
  let re = PEM_PATTERNS.get(label);
  if (!re) {
    re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`);
    PEM_PATTERNS.set(label, re);
  }
  return re;
}

/** Decodes PEM (`PUBLIC KEY`/`CERTIFICATE REQUEST`) or passes DER through. */
export function pemOrDer(input: Buffer, label: string): Buffer {
  const text = input.subarray(0, 64).toString('latin1');
  if (!text.includes('-----BEGIN')) return input;
  const pem = input.toString('latin1');
  const m = pem.match(pemPattern(label));
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
    const uncompressed = bits[0] === 0x04 && bits.length === 1 + 2 * curve.size;
    // The native verifier decodes the point itself and refuses one that is not on the curve (on these
    // prime-order curves that is the whole public-key check), so the point is checked by its first use,
    // verifyWithClientKey, which tells an invalid point from a bad signature.
    if (uncompressed && nativeCrypto && curve.nativeId)
      return { point: bits, crv: curve.crv, nativeId: curve.nativeId, spki, hash: curve.hash };
    let key: KeyObject;
    try {
      key = uncompressed
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

/**
 * Whether `signature` over `data` verifies with the client's key. An EC point kept for the native verifier is
 * checked without a KeyObject: the message hashed here and the signature (strict DER, as OpenSSL's EVP verify
 * also demands) checked over the digest, ~85 µs instead of ~185 for a key import plus a verification. A point
 * that is not on the curve fails too; only then is the point imported the slow way, so that the answer can say
 * the key, not the signature, is what is wrong.
 */
export async function verifyWithClientKey(key: ClientKey, data: Buffer, signature: Buffer): Promise<boolean> {
  if (signature.length === 0) return false;
  if ('key' in key) {
    try {
      return verify(key.hash, data, key.key, signature);
    } catch {
      return false;
    }
  }
  if (key.hash === null) return false;
  const digest = createHash(key.hash).update(data).digest();
  if (nativeCrypto?.verify(key.nativeId, key.point, digest, signature)) return true;
  try {
    await importEcPoint(key.point, key.crv);
  } catch {
    throw new CaError(400, 'the public key could not be parsed: the point is not on the curve');
  }
  return false;
}

/** fulcio.proto: proof_of_possession is a signature over the challenge claim (`sub`, or `email`). */
export async function checkProofOfPossession(
  key: ClientKey,
  challenge: string,
  proof: Buffer,
): Promise<void> {
  const ok = await verifyWithClientKey(key, Buffer.from(challenge, 'utf8'), proof);
  if (!ok)
    throw new CaError(400, 'the proof of possession could not be verified: it must sign the token subject');
}

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
  const hash = signatureAlgorithmHash(sigAlg);
  if (hash === undefined) throw new CaError(400, `unsupported CSR signature algorithm ${sigAlg}`);
  // The CSR's own signature algorithm names the hash (an EC key could sign its CSR with any of them).
  // An EC point with the Ed25519 algorithm (no hash) cannot verify.
  const ok =
    ('key' in key || hash !== null) && (await verifyWithClientKey({ ...key, hash }, info.raw, signature));
  if (!ok) throw new CaError(400, 'the certificate signing request signature could not be verified');
  return key;
}
