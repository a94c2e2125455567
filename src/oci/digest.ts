// Content digests (image-spec descriptor.md "Digests"): parse `algorithm:encoded`, compute them, and verify a
// stream while it is read so that a blob is never handed on unchecked.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { OciError } from './errors.js';

/** Algorithms we can verify, with the hex length each must have (descriptor.md "Registered algorithms"). */
const ALGORITHMS: Record<string, { node: string; hexLength: number }> = {
  sha256: { node: 'sha256', hexLength: 64 },
  sha512: { node: 'sha512', hexLength: 128 },
};

export interface ParsedDigest {
  algorithm: string;
  hex: string;
}

/** Parses and checks a digest; throws a BAD_REFERENCE OciError naming what is wrong. */
export function parseDigest(digest: string): ParsedDigest {
  const idx = digest.indexOf(':');
  if (idx <= 0) throw new OciError('BAD_REFERENCE', `not a digest: "${digest}" (expected sha256:<64 hex>)`);
  const algorithm = digest.slice(0, idx);
  const hex = digest.slice(idx + 1);
  const alg = ALGORITHMS[algorithm];
  if (!alg) {
    throw new OciError(
      'BAD_REFERENCE',
      `unsupported digest algorithm "${algorithm}" in "${digest}" (sha256, sha512)`,
    );
  }
  if (hex.length !== alg.hexLength || !/^[a-f0-9]+$/.test(hex)) {
    throw new OciError(
      'BAD_REFERENCE',
      `bad ${algorithm} digest "${digest}": expected ${alg.hexLength} lowercase hex characters`,
    );
  }
  return { algorithm, hex };
}

export function digestOf(data: Uint8Array | string, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(ALGORITHMS[algorithm].node).update(data).digest('hex')}`;
}

export function newHasher(digest: string): Hash {
  return createHash(ALGORITHMS[parseDigest(digest).algorithm].node);
}

/** Throws DIGEST_MISMATCH unless `data` hashes to `expected`. */
export function verifyDigest(data: Uint8Array, expected: string, what: string): void {
  const { algorithm } = parseDigest(expected);
  const actual = digestOf(data, algorithm);
  if (actual !== expected) {
    throw new OciError('DIGEST_MISMATCH', `${what}: content hashes to ${actual}, expected ${expected}`);
  }
}

/**
 * A pass-through stream that counts and hashes what flows through and fails at the end (before the reader sees
 * end-of-stream) when the size or digest differ from what was expected.
 */
export function verifyingStream(
  expectedDigest: string,
  expectedSize: number | undefined,
  what: string,
): Transform {
  const hash = newHasher(expectedDigest);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (expectedSize !== undefined && seen > expectedSize) {
        cb(new OciError('DIGEST_MISMATCH', `${what}: more than the expected ${expectedSize} bytes`));
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (expectedSize !== undefined && seen !== expectedSize) {
        cb(new OciError('DIGEST_MISMATCH', `${what}: got ${seen} bytes, expected ${expectedSize}`));
        return;
      }
      const actual = `${parseDigest(expectedDigest).algorithm}:${hash.digest('hex')}`;
      if (actual !== expectedDigest) {
        cb(
          new OciError('DIGEST_MISMATCH', `${what}: content hashes to ${actual}, expected ${expectedDigest}`),
        );
        return;
      }
      cb();
    },
  });
}
