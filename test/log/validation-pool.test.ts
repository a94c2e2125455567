// The worker-thread validation pool must answer exactly as validation on the calling thread does: the same
// canonical body, leaf hash and terms for a valid entry, and the same error class and message for each way an
// entry can be wrong (bad signature, wrong key, malformed JSON shapes, unsupported kinds, hostile nesting).
import { createPublicKey } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKey, localSigner, verifySignature } from '../../src/crypto/index.js';
import { FormatError } from '../../src/formats/rekor-entry.js';
import type { Proposal } from '../../src/log/rekor/entry-types.js';
import { KeyError } from '../../src/log/rekor/keys.js';
import { openRekorLog } from '../../src/log/rekor/rekor-log.js';
import { type EntryValidator, entryValidator, inlineValidator } from '../../src/log/rekor/validation-pool.js';
import { openSqliteStorage } from '../../src/storage/sqlite/index.js';
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

/** Each case as a parsed value and as request JSON text, plus texts that are not JSON at all. */
function proposals(all: unknown[]): Proposal[] {
  const deepText = `{"kind":"hashedrekord","apiVersion":"0.0.1","spec":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
  return [
    ...all.map((value) => ({ value })),
    ...all.slice(0, -5).map((v) => ({ text: JSON.stringify(v) })),
    { text: deepText },
    { text: '' },
    { text: '{"kind":' },
    { text: '{"__proto__":{"x":1}}' },
  ];
}

async function settle(v: EntryValidator, all: Proposal[]) {
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
    const all = proposals(cases());
    const inline = await settle(inlineValidator, all);
    const pooled = await settle(entryValidator(2), all);
    expect(pooled).toEqual(inline);
    expect(inline.filter((r) => 'ok' in r)).toHaveLength(40);
    const errors = inline.filter((r) => 'error' in r) as { error: string; message: string }[];
    expect(errors.length).toBe(all.length - 40);
    expect(errors.filter((e) => e.message.startsWith('invalid JSON:'))).toHaveLength(2);
    for (const e of errors) expect([FormatError.name, KeyError.name]).toContain(e.error);
  });

  it('answers the same when jobs come one at a time (done on the calling thread while the workers idle)', async () => {
    const all = proposals(cases());
    const pool = entryValidator(2);
    const one = [];
    for (const p of all) one.push(...(await settle(pool, [p])));
    expect(one).toEqual(await settle(inlineValidator, all));
  });

  it('signs SET payloads in the workers with the log key, and refuses a key that is not the signer key', async () => {
    const key = generateKey('ecdsa-p256');
    const pool = entryValidator(2);
    const messages = Array.from({ length: 30 }, (_, i) => Buffer.from(`set payload ${i}`));
    const sigs = await Promise.all(messages.map((m) => pool.sign(key, m)));
    messages.forEach((m, i) => {
      expect(verifySignature(createPublicKey(key), m, sigs[i])).toBe(true);
      expect(verifySignature(createPublicKey(key), Buffer.from('other'), sigs[i])).toBe(false);
    });
    const dir = await mkdtemp(join(tmpdir(), 'sigil-rekor-key-'));
    await expect(
      openRekorLog({
        storage: openSqliteStorage(dir),
        signer: localSigner(key),
        hostname: 'x.test',
        setSigningKey: generateKey('ecdsa-p256'),
      }),
    ).rejects.toThrow(/not the private key of the log signer/);
  });

  it('signs a SET ahead of the validations already queued in its worker', async () => {
    const key = generateKey('ecdsa-p256');
    const signer = newKey();
    // A pool of its own (one worker), so no other test's jobs share its queue.
    const pool = entryValidator(1);
    const order: string[] = [];
    const validations = Array.from({ length: 64 }, (_, i) =>
      pool
        .validate({ text: JSON.stringify(hashedRekord(Buffer.from(`queued ${i}`), signer)) })
        .then(() => order.push(`validation ${i}`)),
    );
    // Let the pool send those before the signature is asked for.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const signed = pool.sign(key, 'set payload').then((sig) => {
      order.push('sign');
      return sig;
    });
    await Promise.all(validations);
    expect(verifySignature(createPublicKey(key), Buffer.from('set payload'), await signed)).toBe(true);
    // Validations go to the worker 16 to a message and are answered per message; the signature is taken between
    // two small groups of validations, so at most the message being worked on is answered before it.
    expect(order.indexOf('sign')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('sign')).toBeLessThan(32);
  });
});
