// ECDSA verification over a digest the caller already has (FIPS 186-5 §6.4.2), for when the artifact is given
// only as `sha256:<hex>` (the conformance protocol's FILE_OR_DIGEST). node:crypto always hashes the message
// itself, so this small BigInt implementation covers NIST P-256 and P-384; it runs only on that path.
import type { KeyObject } from 'node:crypto';
import { children, content, readTlv } from '../formats/index.js';

interface Curve {
  p: bigint;
  n: bigint;
  a: bigint;
  gx: bigint;
  gy: bigint;
  bytes: number;
}

const CURVES: Record<string, Curve> = {
  prime256v1: {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    a: -3n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    bytes: 32,
  },
  secp384r1: {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    a: -3n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    bytes: 48,
  },
};

type Jacobian = [bigint, bigint, bigint];

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

function double(c: Curve, [x, y, z]: Jacobian): Jacobian {
  if (y === 0n || z === 0n) return [0n, 1n, 0n];
  const { p } = c;
  const yy = mod(y * y, p);
  const s = mod(4n * x * yy, p);
  const zz = mod(z * z, p);
  const m = mod(3n * x * x + c.a * zz * zz, p);
  const x3 = mod(m * m - 2n * s, p);
  return [x3, mod(m * (s - x3) - 8n * yy * yy, p), mod(2n * y * z, p)];
}

function add(c: Curve, P: Jacobian, Q: Jacobian): Jacobian {
  if (P[2] === 0n) return Q;
  if (Q[2] === 0n) return P;
  const { p } = c;
  const z1z1 = mod(P[2] * P[2], p);
  const z2z2 = mod(Q[2] * Q[2], p);
  const u1 = mod(P[0] * z2z2, p);
  const u2 = mod(Q[0] * z1z1, p);
  const s1 = mod(P[1] * Q[2] * z2z2, p);
  const s2 = mod(Q[1] * P[2] * z1z1, p);
  if (u1 === u2) return s1 === s2 ? double(c, P) : [0n, 1n, 0n];
  const h = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  const hh = mod(h * h, p);
  const hhh = mod(h * hh, p);
  const x3 = mod(r * r - hhh - 2n * u1 * hh, p);
  return [x3, mod(r * (u1 * hh - x3) - s1 * hhh, p), mod(h * P[2] * Q[2], p)];
}

function multiply(c: Curve, P: Jacobian, k: bigint): Jacobian {
  let R: Jacobian = [0n, 1n, 0n];
  for (let i = BigInt(k.toString(2).length - 1); i >= 0n; i--) {
    R = double(c, R);
    if ((k >> i) & 1n) R = add(c, R, P);
  }
  return R;
}

function toBigInt(buf: Uint8Array): bigint {
  return buf.length === 0 ? 0n : BigInt(`0x${Buffer.from(buf).toString('hex')}`);
}

/** Verifies a DER ECDSA signature over `digest` with a P-256 or P-384 public key; false when it does not hold. */
export function verifyEcdsaPrehashed(key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType !== 'ec' || !curve) return false;
  let r: bigint;
  let s: bigint;
  try {
    const sig = Buffer.from(signature);
    const seq = readTlv(sig, 0);
    if (seq.end !== sig.length) return false;
    const [rT, sT] = children(sig, seq);
    r = toBigInt(content(sig, rT));
    s = toBigInt(content(sig, sT));
  } catch {
    return false;
  }
  const { n } = curve;
  if (r <= 0n || r >= n || s <= 0n || s >= n) return false;
  const jwk = key.export({ format: 'jwk' });
  const qx = toBigInt(Buffer.from(jwk.x!, 'base64url'));
  const qy = toBigInt(Buffer.from(jwk.y!, 'base64url'));
  // e = leftmost bits of the digest, as many as the order has (FIPS 186-5 §6.4.2 step 3).
  let e = toBigInt(digest);
  const excess = digest.length * 8 - n.toString(2).length;
  if (excess > 0) e >>= BigInt(excess);
  const w = inverse(s, n);
  const X = add(
    curve,
    multiply(curve, [curve.gx, curve.gy, 1n], mod(e * w, n)),
    multiply(curve, [qx, qy, 1n], mod(r * w, n)),
  );
  if (X[2] === 0n) return false;
  const zinv = inverse(X[2], curve.p);
  const x = mod(X[0] * zinv * zinv, curve.p);
  return mod(x, n) === r;
}
