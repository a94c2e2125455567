// Loads sigil's native addon (src/crypto/native/ecdsa-digest.c, built by scripts/build-native.mjs at install) when
// it is there. Callers keep a JavaScript path for when it is not; SIGIL_NATIVE=0 forces that path (for tests
// that compare the two, and to measure the difference).
import { createRequire } from 'node:module';

/** What signingKey returns: an OpenSSL key held by the addon, freed with the handle. */
export type NativeKeyHandle = { readonly __nativeKey: unique symbol };

export interface NativeCrypto {
  /** ECDSA over a digest: curve 1 = P-256, 2 = P-384; point SEC 1; signature strict DER. */
  verify(curve: number, point: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean;
  /**
   * A private key for sign(): the scalar d, big-endian, exactly 32 (P-256) or 48 (P-384) bytes, 1 ≤ d < n.
   * Throws a RangeError for anything else. Absent from addons built before signing was added.
   */
  signingKey?(curve: number, scalar: Uint8Array): NativeKeyHandle;
  /** ECDSA signature (DER) over a digest of 1-64 bytes with a key from signingKey. */
  sign?(key: NativeKeyHandle, digest: Uint8Array): Buffer;
}

// From src/crypto/ and dist/crypto/ the package root is two levels up; from the bundled client (dist/), one.
const CANDIDATES = ['../../build/Release/sigil_native.node', '../build/Release/sigil_native.node'];

function load(): NativeCrypto | undefined {
  if (process.env.SIGIL_NATIVE === '0') return undefined;
  const require = createRequire(import.meta.url);
  for (const c of CANDIDATES) {
    try {
      return require(new URL(c, import.meta.url).pathname) as NativeCrypto;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  return undefined;
}

/** The addon, or undefined when it was not built (or SIGIL_NATIVE=0). */
export const nativeCrypto: NativeCrypto | undefined = load();
