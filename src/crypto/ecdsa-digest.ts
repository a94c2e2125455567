// ECDSA verification of a signature over a given digest (hashedrekord carries only the artifact's digest, and
// node:crypto can only verify over a message it hashes itself). When sigil's native addon is built (native.ts:
// OpenSSL's ECDSA_do_verify, ~85 µs per P-256 check) it does the checks; otherwise the JavaScript path below,
// ~3× the CPU, does. Both are tested against each other (test/crypto/ecdsa-digest.test.ts).
// The JavaScript check is the standard one (SEC 1 §4.1.4):
// with w = s⁻¹, R = u1·G + u2·Q must have x(R) ≡ r (mod n). OpenSSL does the two scalar multiplications through
// node:crypto's ECDH: R = u2·(t·G + Q) with t = e·r⁻¹, so t·G is a fixed-base multiplication (setPrivateKey) and
// u2·P a variable-base one (computeSecret returns x(u2·P)). Only public values are involved, so the BigInt
// arithmetic in between (one modular inverse mod n and one mod p, and one point addition) needs no side-channel care.
// verifyEcdsaDigests checks a batch and shares the inversions of all its signatures (Montgomery's trick).
// Why not the alternatives (measured, CPU per check): node's own verify is ~100 µs but only over a message it
// hashes; turning the digest check into one needs a public key Q' = Q + (e − e')·r⁻¹·G imported as a KeyObject,
// and that import alone (JWK: ~90 µs, SPKI DER: ~300 µs, as OpenSSL 3 checks the point) costs what it saves.
import { createECDH, type ECDH } from 'node:crypto';
import { children, DerError, parseDer, readPositiveInteger, TAG } from '../formats/index.js';
import { type NativeCrypto, nativeCrypto } from './native.js';

export interface Curve {
  name: 'P-256' | 'P-384';
  /** node:crypto ECDH curve name. */
  ecdh: string;
  p: bigint;
  n: bigint;
  b: bigint;
  /** Field element size in bytes. */
  size: number;
  /** The curve's number in the native addon. */
  nativeId: number;
}

export const P256: Curve = {
  name: 'P-256',
  ecdh: 'prime256v1',
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  size: 32,
  nativeId: 1,
};

export const P384: Curve = {
  name: 'P-384',
  ecdh: 'secp384r1',
  p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
  n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  size: 48,
  nativeId: 2,
};

const ecdhByCurve = new Map<string, ECDH>();
function ecdhFor(curve: Curve): ECDH {
  let e = ecdhByCurve.get(curve.ecdh);
  if (!e) {
    e = createECDH(curve.ecdh);
    ecdhByCurve.set(curve.ecdh, e);
  }
  return e;
}

const mod = (a: bigint, m: bigint) => {
  const r = a % m;
  return r < 0n ? r + m : r;
};

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(16).length * 4;
}

/**
 * a⁻¹ mod m (m prime, a ≢ 0). Extended Euclid with Lehmer's speed-up (Knuth vol. 2, 4.5.2, Algorithm L): most
 * quotient steps are taken on 26-bit leading parts held in doubles (products stay below 2^53, so exact), and the
 * BigInts are updated once per run of steps. Checked against the plain algorithm in test/log/keys.test.ts.
 */
export function modInverse(a: bigint, m: bigint): bigint {
  let u = mod(a, m);
  let v = m;
  // Invariants: x1·a ≡ u and x2·a ≡ v (mod m).
  let x1 = 1n;
  let x2 = 0n;
  while (v !== 0n) {
    const shift = Math.max(0, Math.max(bitLength(u), bitLength(v)) - 26);
    const bs = BigInt(shift);
    let uh = Number(u >> bs);
    let vh = Number(v >> bs);
    let A = 1;
    let B = 0;
    let C = 0;
    let D = 1;
    while (vh + C !== 0 && vh + D !== 0) {
      const q = Math.floor((uh + A) / (vh + C));
      if (q !== Math.floor((uh + B) / (vh + D))) break;
      [A, C] = [C, A - q * C];
      [B, D] = [D, B - q * D];
      [uh, vh] = [vh, uh - q * vh];
    }
    if (B === 0) {
      const q = u / v;
      [u, v] = [v, u - q * v];
      [x1, x2] = [x2, x1 - q * x2];
    } else {
      const [bA, bB, bC, bD] = [BigInt(A), BigInt(B), BigInt(C), BigInt(D)];
      [u, v] = [bA * u + bB * v, bC * u + bD * v];
      [x1, x2] = [bA * x1 + bB * x2, bC * x1 + bD * x2];
    }
  }
  if (u !== 1n) throw new RangeError('not invertible');
  return mod(x1, m);
}

const toBig = (b: Uint8Array) => (b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`));
const toBuf = (x: bigint, size: number) => Buffer.from(x.toString(16).padStart(size * 2, '0'), 'hex');

export interface Point {
  x: bigint;
  y: bigint;
  /** Its uncompressed SEC 1 encoding, when it came from one (decodePoint). */
  encoded?: Uint8Array;
}

/** Decodes an uncompressed SEC 1 point and checks that it lies on the curve (cofactor 1: then its order is n). */
export function decodePoint(curve: Curve, bytes: Uint8Array): Point | undefined {
  if (bytes.length !== 1 + 2 * curve.size || bytes[0] !== 0x04) return undefined;
  const x = toBig(bytes.subarray(1, 1 + curve.size));
  const y = toBig(bytes.subarray(1 + curve.size));
  const { p, b } = curve;
  if (x >= p || y >= p) return undefined;
  if (mod(y * y - (x * x * x - 3n * x + b), p) !== 0n) return undefined;
  return { x, y, encoded: bytes };
}

/** Splits a DER ECDSA-Sig-Value into r and s; undefined when it is not strict DER. */
export function parseEcdsaSignature(der: Uint8Array): { r: bigint; s: bigint } | undefined {
  try {
    const parts = children(parseDer(der, TAG.SEQUENCE));
    if (parts.length !== 2) return undefined;
    return { r: readPositiveInteger(parts[0]), s: readPositiveInteger(parts[1]) };
  } catch (err) {
    if (err instanceof DerError) return undefined;
    throw err;
  }
}

/** SEC 1 §4.1.3 step 5: the leftmost bits of the digest, as many as the order n has. */
function digestToInteger(curve: Curve, digest: Uint8Array): bigint {
  const bits = curve.n.toString(2).length;
  const e = toBig(digest);
  const extra = digest.length * 8 - bits;
  return extra > 0 ? e >> BigInt(extra) : e;
}

/**
 * a⁻¹ mod m for every element of `xs` (each ≢ 0) with one modular inverse in all (Montgomery's trick): prefix
 * products forward, one inversion of the total, then peel one factor off per element going back. Three
 * multiplications per element instead of one extended Euclid each.
 */
export function batchInverse(xs: bigint[], m: bigint): bigint[] {
  const prefix: bigint[] = new Array(xs.length);
  let acc = 1n;
  for (let i = 0; i < xs.length; i++) {
    prefix[i] = acc;
    acc = (acc * xs[i]) % m;
  }
  let inv = modInverse(acc, m);
  const out: bigint[] = new Array(xs.length);
  for (let i = xs.length - 1; i >= 0; i--) {
    out[i] = (inv * prefix[i]) % m;
    inv = (inv * xs[i]) % m;
  }
  return out;
}

/** One signature check: a DER ECDSA signature over `digest` with public key `q` (an on-curve point). */
export interface DigestCheck {
  curve: Curve;
  q: Point;
  digest: Uint8Array;
  signature: Uint8Array;
}

export interface DigestCheckOptions {
  /** The native addon to check with (default: the built one, if any); false: the JavaScript path. */
  native?: NativeCrypto | false;
}

/** Verifies a DER ECDSA signature over `digest` with public key `q` (an on-curve point). */
export function verifyEcdsaDigest(
  curve: Curve,
  q: Point,
  digest: Uint8Array,
  signature: Uint8Array,
  options?: DigestCheckOptions,
): boolean {
  return verifyEcdsaDigests([{ curve, q, digest, signature }], options)[0];
}

function encodePoint(curve: Curve, q: Point): Buffer {
  return Buffer.concat([Buffer.from([4]), toBuf(q.x, curve.size), toBuf(q.y, curve.size)]);
}

/** A check in progress: its scalars once the signature parsed and is in range. */
interface Work {
  at: number;
  curve: Curve;
  q: Point;
  r: bigint;
  s: bigint;
  e: bigint;
  /** u2 = r·s⁻¹ and t = e·r⁻¹ (mod n), then t·G. */
  u2?: bigint;
  tg?: Point;
}

/**
 * Verifies many signatures at once. Same check as above for each, but the modular inverses of all checks share
 * one extended Euclid per curve and step (s⁻¹ and r⁻¹ mod n, then the point-addition slopes mod p), so a batch
 * costs two BigInt inversions instead of two per signature.
 */
export function verifyEcdsaDigests(
  checks: DigestCheck[],
  { native = nativeCrypto }: DigestCheckOptions = {},
): boolean[] {
  if (native) {
    return checks.map((c) =>
      native.verify(c.curve.nativeId, c.q.encoded ?? encodePoint(c.curve, c.q), c.digest, c.signature),
    );
  }
  const ok = checks.map(() => false);
  const byCurve = new Map<Curve, Work[]>();
  checks.forEach((c, at) => {
    const sig = parseEcdsaSignature(c.signature);
    if (!sig) return;
    const { r, s } = sig;
    const { n } = c.curve;
    if (r <= 0n || r >= n || s <= 0n || s >= n) return;
    const e = mod(digestToInteger(c.curve, c.digest), n);
    const list = byCurve.get(c.curve) ?? [];
    byCurve.set(c.curve, list);
    list.push({ at, curve: c.curve, q: c.q, r, s, e });
  });
  for (const [curve, work] of byCurve) {
    for (const [at, value] of verifyOnCurve(curve, work)) ok[at] = value;
  }
  return ok;
}

function verifyOnCurve(curve: Curve, work: Work[]): [number, boolean][] {
  const { n, p, size } = curve;
  const ecdh = ecdhFor(curve);
  // (r·s)⁻¹ gives both r⁻¹ = s·(r·s)⁻¹ and s⁻¹ = r·(r·s)⁻¹.
  const invRs = batchInverse(
    work.map((w) => (w.r * w.s) % n),
    n,
  );
  work.forEach((w, i) => {
    const rInv = (w.s * invRs[i]) % n;
    const sInv = (w.r * invRs[i]) % n;
    w.u2 = (w.r * sInv) % n;
    const t = (w.e * rInv) % n;
    if (t !== 0n) {
      ecdh.setPrivateKey(toBuf(t, size));
      const tg = ecdh.getPublicKey();
      w.tg = { x: toBig(tg.subarray(1, 1 + size)), y: toBig(tg.subarray(1 + size)) };
    }
  });
  // P = t·G + Q by the affine chord rule; the slopes' denominators are inverted together. Equal x (P = 2Q or
  // the point at infinity) is so rare that it takes its own inversion.
  const chords = work.filter((w) => w.tg && w.tg.x !== w.q.x);
  const invDx = batchInverse(
    chords.map((w) => mod(w.q.x - (w.tg as Point).x, p)),
    p,
  );
  const base = new Map<Work, Point | undefined>();
  chords.forEach((w, i) => {
    const a = w.tg as Point;
    const lambda = mod((w.q.y - a.y) * invDx[i], p);
    const x = mod(lambda * lambda - a.x - w.q.x, p);
    base.set(w, { x, y: mod(lambda * (a.x - x) - a.y, p) });
  });
  const out: [number, boolean][] = [];
  for (const w of work) {
    let point: Point | undefined;
    if (!w.tg) point = w.q;
    else if (base.has(w)) point = base.get(w);
    else if (mod(w.tg.y + w.q.y, p) === 0n)
      point = undefined; // t·G = −Q: the point at infinity, never valid
    else {
      // t·G = Q: doubling, λ = (3x² − 3) / 2y on a = −3 curves.
      const { x: qx, y: qy } = w.q;
      const lambda = mod((3n * qx * qx - 3n) * modInverse(2n * qy, p), p);
      const x = mod(lambda * lambda - 2n * qx, p);
      point = { x, y: mod(lambda * (qx - x) - qy, p) };
    }
    if (!point) {
      out.push([w.at, false]);
      continue;
    }
    ecdh.setPrivateKey(toBuf(w.u2 as bigint, size));
    const encoded = Buffer.concat([Buffer.from([4]), toBuf(point.x, size), toBuf(point.y, size)]);
    out.push([w.at, mod(toBig(ecdh.computeSecret(encoded)), n) === w.r]);
  }
  return out;
}
