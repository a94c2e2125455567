// The entries the log benchmarks prefill straight through the engine (bench/log, bench/pg): Rekor v1
// hashedrekord-shaped leaves with a PEM key and the two search terms Rekor indexes, distinct per index.
import { createHash } from 'node:crypto';

/** Entry `j`'s leaf and search terms; `pemBase64` is the (base64 PEM) public key every entry names. */
export function prefillEntry(
  j: number,
  pemBase64: string,
  label = 'prefill',
): { leaf: Buffer; terms: string[] } {
  const digest = createHash('sha256').update(`${label} ${j}`).digest('hex');
  const leaf = Buffer.from(
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: digest } },
        signature: {
          content: Buffer.alloc(71, j % 251).toString('base64'),
          publicKey: { content: pemBase64 },
        },
      },
    }),
  );
  return { leaf, terms: [`hash:sha256:${digest}`, `key:${j % 1000}`] };
}
