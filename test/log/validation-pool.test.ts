// The worker-thread validation pool must answer exactly as validation on the calling thread does: the same
// canonical body, leaf hash and terms for a valid entry, and the same error class and message for each way an
// entry can be wrong (bad signature, wrong key, malformed JSON shapes, unsupported kinds, hostile nesting).
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src/formats/rekor-entry.js';
import { KeyError } from '../../src/log/rekor/keys.js';
import { entryValidator, inlineValidator } from '../../src/log/rekor/validation-pool.js';
import { hashedRekord, newKey } from './helpers.js';

function cases(): unknown[] {
  const p256 = newKey();
  const p384 = newKey('P-384');
  const other = newKey();
  const good = (i: number) => hashedRekord(Buffer.from(`pool ${i}`), i % 2 ? p256 : p384);
  const wrongKey = hashedRekord(Buffer.from('pool wrong key'), p256, other.pem);
  const badSig = hashedRekord(Buffer.from('pool bad sig'), p256) as {
    spec: { signature: { content: string } };
  };
  badSig.spec.signature.content = Buffer.from('30060201010201ff', 'hex').toString('base64');
  let deep: unknown = 'x';
  for (let i = 0; i < 20_000; i++) deep = [deep];
  return [
    ...Array.from({ length: 20 }, (_, i) => good(i)),
    wrongKey,
    badSig,
    { kind: 'hashedrekord', apiVersion: '9.9.9', spec: {} },
    { kind: 'nope', apiVersion: '0.0.1', spec: {} },
    { kind: 'hashedrekord', apiVersion: '0.0.1', spec: { deep } },
    {
      ...good(99),
      spec: { ...(good(99) as { spec: object }).spec, signature: { publicKey: { content: 'AAAA' } } },
    },
    'not an object',
    null,
  ];
}

async function settle(v: { validate(p: unknown): Promise<unknown> }, all: unknown[]) {
  return Promise.all(
    all.map((p) =>
      v.validate(p).then(
        (r) => ({ ok: r }),
        (e: Error) => ({ error: e.constructor.name, message: e.message }),
      ),
    ),
  );
}

describe('validation pool', () => {
  it('gives the same results and errors as validating on the calling thread', async () => {
    const all = cases();
    const inline = await settle(inlineValidator, all);
    const pooled = await settle(entryValidator(2), all);
    expect(pooled).toEqual(inline);
    expect(inline.filter((r) => 'ok' in r)).toHaveLength(20);
    const errors = inline.filter((r) => 'error' in r) as { error: string }[];
    expect(errors.length).toBe(all.length - 20);
    for (const e of errors) expect([FormatError.name, KeyError.name]).toContain(e.error);
  });
});
