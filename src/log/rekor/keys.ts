// Verification material as Rekor entries carry it: a PEM public key (SubjectPublicKeyInfo) or a PEM X.509
// certificate, whose key verifies the entry's signature and whose subject alternative names (email, URI) make the
// entry searchable. Read with formats/ (der.ts, x509.ts), which costs this per-entry path ~5 µs for a key and
// ~25 µs for a Fulcio certificate (docs/design/formats-x509.md); node:crypto KeyObjects are built only for RSA
// and Ed25519, because OpenSSL 3's key import costs as much as a signature check.
import {
  createHash,
  createPublicKey,
  constants as cryptoConstants,
  type KeyObject,
  publicDecrypt,
  verify,
} from 'node:crypto';
import { twistedEdwards } from '@noble/curves/abstract/edwards';
import { ed25519ph } from '@noble/curves/ed25519';
import { p521 } from '@noble/curves/p521';
import { type Curve, decodePoint, P256, P384, type Point, verifyEcdsaDigest } from '../../crypto/index.js';
import {
  children,
  DerError,
  isOid,
  parseCertificate,
  parseDer,
  readBitString,
  TAG,
  toPem,
} from '../../formats/index.js';

export class KeyError extends Error {}

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ed25519: '1.3.101.112',
};

export type HashName = 'sha256' | 'sha384' | 'sha512';

export interface VerificationKey {
  type: 'ecdsa' | 'rsa' | 'ed25519';
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
  /** Canonical PEM as Rekor stores it: the certificate when one was given, else the public key. */
  canonicalPem: string;
  /** Email and URI subject alternative names of the certificate (none for a bare key). */
  subjects: string[];
  certificate: boolean;
  /** For RSA keys: the modulus size in bits. */
  rsaBits?: number;
  /** For ECDSA keys: the curve. */
  curveName?: 'P-256' | 'P-384' | 'P-521';
  /** Ed25519 keys only: an Ed25519ph signature (RFC 8032 §5.1) whose prehash, SHA-512 of the message, is given. */
  verifyEd25519phDigest?(digest: Uint8Array, signature: Uint8Array): boolean;
  /** For ECDSA keys: the curve and point, so that many digest checks can be verified as one batch. */
  ecdsa?: { curve: Curve; point: Point };
  verifyDigest(hash: HashName, digest: Uint8Array, signature: Uint8Array): boolean;
  /** RSA keys only: an RSASSA-PSS signature over a digest (MGF1 with the same hash, any salt length). */
  verifyPssDigest?(hash: HashName, digest: Uint8Array, signature: Uint8Array): boolean;
  verifyMessage(message: Uint8Array, signature: Uint8Array): boolean;
}

const PEM_RE = /-----BEGIN ([A-Z ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END \1-----/;

/** Parses PEM bytes holding a PUBLIC KEY or a CERTIFICATE (the first block counts, as in Rekor). */
export function parseVerificationKey(pemBytes: Uint8Array): VerificationKey {
  const text = Buffer.from(pemBytes).toString('latin1');
  const m = PEM_RE.exec(text);
  if (!m) throw new KeyError('public key is not a PEM "PUBLIC KEY" or "CERTIFICATE" block');
  // Node's base64 decoder skips the line breaks, which are all the pattern lets through besides base64.
  const der = Buffer.from(m[2], 'base64');
  if (m[1] !== 'PUBLIC KEY' && m[1] !== 'CERTIFICATE')
    throw new KeyError(`unsupported PEM block "${m[1]}"; expected PUBLIC KEY or CERTIFICATE`);
  return verificationKeyFromDer(der, m[1] === 'CERTIFICATE');
}

/** A DER SubjectPublicKeyInfo or certificate (Rekor v2 verifiers carry DER). */
export function verificationKeyFromDer(der: Buffer, certificate: boolean): VerificationKey {
  const what = certificate ? 'certificate' : 'public key';
  try {
    if (!certificate) return fromSpki(der, [], toPem(der, 'PUBLIC KEY'), false);
    const cert = parseCertificate(der);
    const subjects: string[] = [];
    for (const n of cert.subjectAltNames) if (n.type === 'email' || n.type === 'uri') subjects.push(n.value);
    return fromSpki(cert.spki, subjects, toPem(der, 'CERTIFICATE'), true);
  } catch (err) {
    if (err instanceof DerError) throw new KeyError(`malformed ${what}: ${err.message}`);
    throw err;
  }
}

function fromSpki(
  spki: Buffer,
  subjects: string[],
  canonicalPem: string,
  certificate: boolean,
): VerificationKey {
  const parts = children(parseDer(spki, TAG.SEQUENCE, 'SubjectPublicKeyInfo'));
  if (parts.length !== 2 || parts[0].tag !== TAG.SEQUENCE || parts[1].tag !== TAG.BIT_STRING) {
    throw new DerError('malformed SubjectPublicKeyInfo');
  }
  const alg = children(parts[0]);
  const keyBytes = readBitString(parts[1]);
  if (isOid(alg[0], OID.ecPublicKey) && isOid(alg[1], OID.secp521r1)) {
    return {
      spki,
      subjects,
      canonicalPem,
      certificate,
      type: 'ecdsa',
      curveName: 'P-521',
      ...p521Verifier(keyBytes),
    };
  }
  if (isOid(alg[0], OID.ecPublicKey)) {
    const curve = isOid(alg[1], OID.prime256v1) ? P256 : isOid(alg[1], OID.secp384r1) ? P384 : undefined;
    if (!curve) throw new KeyError('unsupported elliptic curve (P-256, P-384 and P-521 are supported)');
    const point = decodePoint(curve, keyBytes);
    if (!point) throw new KeyError(`${curve.name} public key is not an uncompressed point on the curve`);
    // Written out rather than spread together: this runs for every proposed entry.
    const { verifyDigest, verifyMessage } = ecdsaVerifier(curve, point);
    return {
      spki,
      subjects,
      canonicalPem,
      certificate,
      type: 'ecdsa',
      curveName: curve.name,
      ecdsa: { curve, point },
      verifyDigest,
      verifyMessage,
    };
  }
  const rsa = isOid(alg[0], OID.rsaEncryption);
  if (rsa || isOid(alg[0], OID.ed25519)) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    } catch {
      throw new KeyError('public key cannot be parsed');
    }
    const base = { spki, subjects, canonicalPem, certificate };
    return rsa
      ? {
          ...base,
          type: 'rsa',
          rsaBits: key.asymmetricKeyDetails?.modulusLength,
          ...rsaVerifier(key),
          verifyPssDigest: rsaPssVerifier(key),
        }
      : {
          ...base,
          type: 'ed25519',
          ...ed25519Verifier(key),
          verifyEd25519phDigest: ed25519phVerifier(keyBytes),
        };
  }
  throw new KeyError('unsupported public key algorithm (ECDSA P-256/P-384, RSA and Ed25519 are supported)');
}

/** The hash a key's signatures are made with over a whole message (sigstore: SHA-256, SHA-384 for P-384). */
function messageHash(curve: Curve): HashName {
  return curve === P384 ? 'sha384' : 'sha256';
}

function ecdsaVerifier(curve: Curve, point: Point): Pick<VerificationKey, 'verifyDigest' | 'verifyMessage'> {
  return {
    verifyDigest: (_hash, digest, signature) => verifyEcdsaDigest(curve, point, digest, signature),
    verifyMessage: (message, signature) =>
      verifyEcdsaDigest(curve, point, createHash(messageHash(curve)).update(message).digest(), signature),
  };
}

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: Record<HashName, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

function rsaVerifier(key: KeyObject): Pick<VerificationKey, 'verifyDigest' | 'verifyMessage'> {
  const size = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  return {
    // PKCS #1 v1.5 over a digest: the recovered block must be exactly DigestInfo(hash, digest).
    verifyDigest(hash, digest, signature) {
      if (signature.length !== size) return false;
      try {
        const block = publicDecrypt({ key, padding: cryptoConstants.RSA_PKCS1_PADDING }, signature);
        return block.equals(Buffer.concat([Buffer.from(DIGEST_INFO[hash], 'hex'), Buffer.from(digest)]));
      } catch {
        return false;
      }
    },
    verifyMessage(message, signature) {
      try {
        return verify('sha256', message, key, signature);
      } catch {
        return false;
      }
    },
  };
}

/** RSASSA-PSS over a digest: RSAVP1 by publicDecrypt without padding, then EMSA-PSS-VERIFY. */
function rsaPssVerifier(key: KeyObject): NonNullable<VerificationKey['verifyPssDigest']> {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return (hash, digest, signature) => {
    if (signature.length !== Math.ceil(bits / 8)) return false;
    try {
      const em = publicDecrypt({ key, padding: cryptoConstants.RSA_NO_PADDING }, signature);
      return emsaPssVerify(hash, digest, em, bits);
    } catch {
      return false;
    }
  };
}

const HASH_BYTES: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** MGF1 (RFC 8017 §B.2.1) with `hash`: `length` bytes of mask from `seed`. */
function mgf1(hash: HashName, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0, have = 0; have < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/**
 * EMSA-PSS-VERIFY (RFC 8017 §9.1.2) of `mHash` against the encoded message `em` a modulus of `modBits` gives
 * (RSAVP1 done by publicDecrypt without padding). node:crypto verifies PSS only over a message it hashes itself,
 * and a hashedrekord carries only the digest. The salt may have any length, as Go's PSSSaltLengthAuto allows.
 */
export function emsaPssVerify(hash: HashName, mHash: Uint8Array, em: Buffer, modBits: number): boolean {
  const hLen = HASH_BYTES[hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  // RSAVP1 gives k bytes; when emLen < k the extra leading byte must be zero.
  if (em.length > emLen) {
    if (em.subarray(0, em.length - emLen).some((b) => b !== 0)) return false;
    em = em.subarray(em.length - emLen);
  }
  if (mHash.length !== hLen || emLen < hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const zeroBits = 8 * emLen - emBits;
  if (zeroBits > 0 && maskedDb[0] >> (8 - zeroBits) !== 0) return false;
  const db = Buffer.from(mgf1(hash, Buffer.from(h), maskedDb.length).map((m, i) => m ^ maskedDb[i]));
  if (zeroBits > 0) db[0] &= 0xff >> zeroBits;
  const one = db.indexOf(0x01);
  if (one < 0 || db.subarray(0, one).some((b) => b !== 0)) return false;
  const salt = db.subarray(one + 1);
  const hPrime = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return hPrime.equals(h);
}

/**
 * P-521 ECDSA over a digest (@noble/curves: node:crypto verifies only over a message it hashes, and crypto/'s
 * digest verifier has P-256 and P-384). The point is checked on the curve when the key is read.
 */
function p521Verifier(point: Buffer): Pick<VerificationKey, 'verifyDigest' | 'verifyMessage'> {
  try {
    p521.ProjectivePoint.fromHex(point).assertValidity();
  } catch {
    throw new KeyError('P-521 public key is not a point on the curve');
  }
  const verifyDigest = (digest: Uint8Array, signature: Uint8Array) => {
    try {
      // noble reads DER itself with format 'der' (strictly: a BER or padded signature is refused).
      return p521.verify(signature, digest, point, { prehash: false, lowS: false, format: 'der' });
    } catch {
      return false;
    }
  };
  return {
    verifyDigest: (_hash, digest, signature) => verifyDigest(digest, signature),
    verifyMessage: (message, signature) =>
      verifyDigest(createHash('sha512').update(message).digest(), signature),
  };
}

/**
 * Ed25519ph over a given digest: noble's ed25519ph with the prehash step taken as done, so the message it signs
 * over is PH(M) itself (RFC 8032 §5.1: dom2 with phflag 1, no context), as Rekor checks hashedrekord Ed25519 keys.
 */
const ed25519phOverDigest = twistedEdwards({ ...ed25519ph.CURVE, prehash: (m) => m as Uint8Array });

function ed25519phVerifier(rawKey: Buffer): NonNullable<VerificationKey['verifyEd25519phDigest']> {
  return (digest, signature) => {
    if (digest.length !== 64 || signature.length !== 64) return false;
    try {
      return ed25519phOverDigest.verify(signature, digest, rawKey, { zip215: false });
    } catch {
      return false;
    }
  };
}

function ed25519Verifier(key: KeyObject): Pick<VerificationKey, 'verifyDigest' | 'verifyMessage'> {
  return {
    // Rekor verifies hashedrekord Ed25519 signatures as Ed25519ph, which node:crypto does not offer.
    verifyDigest: () => false,
    verifyMessage(message, signature) {
      try {
        return verify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  };
}
