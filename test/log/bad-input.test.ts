// Hundreds of malformed and hostile requests: every one gets a 4xx with a JSON message saying what is wrong,
// none a 5xx, and the log keeps serving (a valid entry is still accepted afterwards and the tree is intact).
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashedRekord, newKey, startLog } from './helpers.js';

let ctx: Awaited<ReturnType<typeof startLog>>;
beforeAll(async () => {
  ctx = await startLog();
});
afterAll(async () => {
  await ctx.server.close();
});

interface Case {
  name: string;
  method?: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
}

const key = newKey();
const valid = hashedRekord(Buffer.from('bad-input base'), key);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/** Sets (or deletes, for undefined) the value at a dotted path in a copy of `base`. */
function mutate(base: unknown, path: string, value: unknown): unknown {
  const copy = clone(base) as Record<string, any>;
  const parts = path.split('.');
  let at = copy;
  for (const p of parts.slice(0, -1)) at = at[p];
  if (value === undefined) delete at[parts[parts.length - 1]];
  else at[parts[parts.length - 1]] = value;
  return copy;
}

function dsseEntry(): Record<string, any> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
  const type = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
  const sig = sign('sha256', pae, privateKey);
  return {
    kind: 'dsse',
    apiVersion: '0.0.1',
    spec: {
      proposedContent: {
        envelope: JSON.stringify({
          payload: payload.toString('base64'),
          payloadType: type,
          signatures: [{ keyid: '', sig: sig.toString('base64') }],
        }),
        verifiers: [Buffer.from(publicKey.export({ type: 'spki', format: 'pem' })).toString('base64')],
      },
    },
  };
}

function intotoEntry(): Record<string, any> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
  const type = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
  const sig = sign('sha256', pae, privateKey);
  const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');
  return {
    kind: 'intoto',
    apiVersion: '0.0.2',
    spec: {
      content: {
        envelope: {
          payloadType: type,
          payload: b64(b64(payload)),
          signatures: [
            { sig: b64(b64(sig)), publicKey: b64(publicKey.export({ type: 'spki', format: 'pem' })) },
          ],
        },
        hash: { algorithm: 'sha256', value: 'ab'.repeat(32) },
      },
    },
  };
}

function cases(): Case[] {
  const out: Case[] = [];
  const entry = (name: string, body: unknown) =>
    out.push({
      name,
      path: '/api/v1/log/entries',
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  // Not JSON, or not an object.
  for (const raw of [
    '',
    '{',
    '[',
    '{"kind":',
    'nul',
    'tru',
    '{"a":1}}',
    '{"a" 1}',
    "{'kind':'x'}",
    '\u0000\u0001',
    '123abc',
    '{"kind":"hashedrekord",}',
    '[1,2',
    '"unterminated',
    '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{"x":1}}}',
  ]) {
    entry(`raw ${JSON.stringify(raw)}`, raw);
  }
  for (const v of [null, 0, -1, 1e308, 'string', true, [], [valid], {}])
    entry(`body ${JSON.stringify(v)}`, v);
  entry('deeply nested arrays', '['.repeat(50_000) + ']'.repeat(50_000));
  entry('huge number', `{"kind":"hashedrekord","apiVersion":"0.0.1","spec":${'9'.repeat(5000)}}`);

  // Wrong kinds and versions.
  for (const kind of [
    'rekord',
    'rpm',
    'jar',
    'HASHEDREKORD',
    '',
    'x'.repeat(10000),
    'cose',
    'tuf',
    'alpine',
    'helm',
    'rfc3161',
  ]) {
    entry(`kind ${kind.slice(0, 20)}`, mutate(valid, 'kind', kind));
  }
  for (const v of ['0.0.2', '0.0.0', '1', '', '0.0.1 ', 'v0.0.1'])
    entry(`apiVersion ${v}`, mutate(valid, 'apiVersion', v));
  entry('extra top-level property', { ...valid, extra: 1 });

  // Every field of a hashedrekord: missing, and every wrong type.
  const paths = [
    'kind',
    'apiVersion',
    'spec',
    'spec.data',
    'spec.data.hash',
    'spec.data.hash.algorithm',
    'spec.data.hash.value',
    'spec.signature',
    'spec.signature.content',
    'spec.signature.publicKey',
    'spec.signature.publicKey.content',
  ];
  const wrongValues: unknown[] = [null, 42, -1, 1.5, 1e300, true, [], {}, 'not-the-right-thing', ''];
  for (const p of paths) {
    entry(`missing ${p}`, mutate(valid, p, undefined));
    for (const w of wrongValues) {
      const m = mutate(valid, p, w);
      if (JSON.stringify(m) !== JSON.stringify(valid)) entry(`${p} = ${JSON.stringify(w)}`, m);
    }
  }

  // Bad encodings and signatures.
  const content = (valid as any).spec.signature.content as string;
  const pk = (valid as any).spec.signature.publicKey.content as string;
  for (const [name, v] of [
    ['truncated', content.slice(0, -3)],
    ['missing padding', content.endsWith('=') ? content.replace(/=+$/, '') : content.slice(0, -1)],
    [
      'url-safe alphabet',
      content.replace(/\+/g, '-').replace(/\//g, '_') +
        (content.includes('+') || content.includes('/') ? '' : '-_=='),
    ],
    ['whitespace', `${content.slice(0, 8)} ${content.slice(8)}`],
    ['bad chars', `${content.slice(0, -4)}!!!!`],
    ['other signature', sign('sha256', Buffer.from('other'), key.privateKey).toString('base64')],
    ['random bytes', Buffer.alloc(72, 1).toString('base64')],
    ['single byte', 'AA=='],
  ] as const) {
    entry(`signature ${name}`, mutate(valid, 'spec.signature.content', v));
  }
  for (const [name, v] of [
    ['truncated', pk.slice(0, -10)],
    ['not PEM', Buffer.from('hello').toString('base64')],
    [
      'garbage PEM',
      Buffer.from('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n').toString('base64'),
    ],
    [
      'garbage certificate',
      Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n').toString('base64'),
    ],
    ['private key', Buffer.from(key.privateKey.export({ type: 'pkcs8', format: 'pem' })).toString('base64')],
    ['other key', Buffer.from(newKey().pem).toString('base64')],
    ['P-384 key', Buffer.from(newKey('P-384').pem).toString('base64')],
    [
      'secp256k1 key',
      Buffer.from(
        generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({
          type: 'spki',
          format: 'pem',
        }),
      ).toString('base64'),
    ],
    [
      'ed25519 key',
      Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' })).toString(
        'base64',
      ),
    ],
  ] as const) {
    entry(`publicKey ${name}`, mutate(valid, 'spec.signature.publicKey.content', v));
  }
  const value = (valid as any).spec.data.hash.value as string;
  for (const [name, v] of [
    ['short', value.slice(2)],
    ['long', `${value}00`],
    ['non-hex', `zz${value.slice(2)}`],
    ['other digest', createHash('sha256').update('other').digest('hex')],
    ['sha512-length with sha256', 'ab'.repeat(64)],
  ] as const) {
    entry(`digest ${name}`, mutate(valid, 'spec.data.hash.value', v));
  }
  for (const alg of ['md5', 'sha1', 'SHA256', 'sha384', 'sha512'])
    entry(`algorithm ${alg}`, mutate(valid, 'spec.data.hash.algorithm', alg));
  entry('data.content', mutate(valid, 'spec.data.content', 'aGVsbG8='));

  // DSSE and in-toto: broken envelopes and signatures that do not verify.
  const dsse = dsseEntry();
  entry('dsse envelope not JSON', mutate(dsse, 'spec.proposedContent.envelope', '{nope'));
  entry('dsse envelope JSON array', mutate(dsse, 'spec.proposedContent.envelope', '[]'));
  entry(
    'dsse envelope no signatures',
    mutate(
      dsse,
      'spec.proposedContent.envelope',
      JSON.stringify({ ...JSON.parse(dsse.spec.proposedContent.envelope), signatures: [] }),
    ),
  );
  entry(
    'dsse envelope bad payload',
    mutate(
      dsse,
      'spec.proposedContent.envelope',
      JSON.stringify({ ...JSON.parse(dsse.spec.proposedContent.envelope), payload: '!!' }),
    ),
  );
  entry(
    'dsse envelope changed payload',
    mutate(
      dsse,
      'spec.proposedContent.envelope',
      JSON.stringify({
        ...JSON.parse(dsse.spec.proposedContent.envelope),
        payload: Buffer.from('{}').toString('base64'),
      }),
    ),
  );
  entry(
    'dsse envelope changed type',
    mutate(
      dsse,
      'spec.proposedContent.envelope',
      JSON.stringify({ ...JSON.parse(dsse.spec.proposedContent.envelope), payloadType: 'text/plain' }),
    ),
  );
  entry('dsse no verifiers', mutate(dsse, 'spec.proposedContent.verifiers', []));
  entry(
    'dsse wrong verifier',
    mutate(dsse, 'spec.proposedContent.verifiers', [Buffer.from(newKey().pem).toString('base64')]),
  );
  entry(
    'dsse extra verifier',
    mutate(dsse, 'spec.proposedContent.verifiers', [
      ...dsse.spec.proposedContent.verifiers,
      Buffer.from(newKey().pem).toString('base64'),
    ]),
  );
  entry('dsse verifier not base64', mutate(dsse, 'spec.proposedContent.verifiers', ['%%%']));
  entry(
    'dsse server-side fields',
    mutate(dsse, 'spec.payloadHash', { algorithm: 'sha256', value: 'ab'.repeat(32) }),
  );
  entry('dsse missing proposedContent', mutate(dsse, 'spec.proposedContent', undefined));
  entry('dsse version 0.0.2', mutate(dsse, 'apiVersion', '0.0.2'));
  const intoto = intotoEntry();
  entry('intoto missing payload', mutate(intoto, 'spec.content.envelope.payload', undefined));
  entry(
    'intoto single-base64 payload',
    mutate(intoto, 'spec.content.envelope.payload', Buffer.from('{}').toString('base64')),
  );
  entry(
    'intoto wrong signature',
    mutate(intoto, 'spec.content.envelope.signatures', [
      {
        ...intoto.spec.content.envelope.signatures[0],
        sig: Buffer.from(Buffer.alloc(70, 3).toString('base64')).toString('base64'),
      },
    ]),
  );
  entry(
    'intoto wrong key',
    mutate(intoto, 'spec.content.envelope.signatures', [
      {
        ...intoto.spec.content.envelope.signatures[0],
        publicKey: Buffer.from(newKey().pem).toString('base64'),
      },
    ]),
  );
  entry('intoto no signatures', mutate(intoto, 'spec.content.envelope.signatures', []));
  entry(
    'intoto hash sha1',
    mutate(intoto, 'spec.content.hash', { algorithm: 'sha1', value: 'ab'.repeat(20) }),
  );
  entry('intoto missing hash', mutate(intoto, 'spec.content.hash', undefined));
  entry('intoto version 0.0.1', mutate(intoto, 'apiVersion', '0.0.1'));

  // Size limit and content type.
  out.push({
    name: 'oversize body',
    path: '/api/v1/log/entries',
    body: JSON.stringify({ ...valid, pad: 'x'.repeat(1024 * 1024 + 10) }),
  });
  out.push({
    name: 'text/plain',
    path: '/api/v1/log/entries',
    body: JSON.stringify(valid),
    contentType: 'text/plain',
  });
  out.push({
    name: 'form encoded',
    path: '/api/v1/log/entries',
    body: 'kind=hashedrekord',
    contentType: 'application/x-www-form-urlencoded',
  });

  // Reads with hostile parameters.
  for (const q of [
    '',
    'logIndex=',
    'logIndex=-1',
    'logIndex=abc',
    'logIndex=1e3',
    'logIndex=99999999999999999999',
    'logIndex=1.5',
    'logIndex=0x10',
    'logIndex=%00',
  ]) {
    out.push({ name: `GET entries ?${q}`, method: 'GET', path: `/api/v1/log/entries?${q}` });
  }
  for (const u of [
    'abc',
    'g'.repeat(64),
    'a'.repeat(63),
    'a'.repeat(65),
    'a'.repeat(81),
    '..%2F..%2Fetc',
    'a'.repeat(1000),
    'ab'.repeat(32),
  ]) {
    out.push({ name: `GET entry ${u.slice(0, 12)}`, method: 'GET', path: `/api/v1/log/entries/${u}` });
  }
  for (const q of [
    '',
    'lastSize=0',
    'lastSize=abc',
    'firstSize=5&lastSize=2',
    'lastSize=99999999',
    'firstSize=0&lastSize=1',
    'firstSize=-1&lastSize=1',
    'lastSize=1&treeID=12',
    'lastSize=1e2',
  ]) {
    out.push({ name: `GET proof ?${q}`, method: 'GET', path: `/api/v1/log/proof?${q}` });
  }
  for (const t of [
    'tile/0/1',
    'tile/0/x001',
    'tile/0/001.p/0',
    'tile/0/001.p/256',
    'tile/64/000',
    'tile/-1/000',
    'tile/0/000.p/999',
    'tile/entries/001',
    'tile/0/x000/001',
    'tile/abc',
    'tile/0/000/extra',
    'tile/5/000',
  ]) {
    out.push({ name: `GET ${t}`, method: 'GET', path: `/tlog/${t}` });
  }
  out.push({ name: 'GET publicKey other tree', method: 'GET', path: '/api/v1/log/publicKey?treeID=1' });
  // Query parameters the API defines are validated; ones it does not define are refused, not ignored.
  for (const path of [
    '/api/v1/log/publicKey?treeID=abc',
    '/api/v1/log/publicKey?treeID=-1',
    '/api/v1/log/publicKey?treeID=1&treeID=2',
    '/api/v1/log/publicKey?format=der',
    '/api/v1/log/proof?lastSize=1&treeID=x',
    '/api/v1/log/proof?lastSize=1&size=1',
    '/api/v1/log?stable=maybe',
    '/api/v1/log?treeID=1',
    '/api/v1/log/entries?logIndex=0&logindex=0',
    '/api/v1/log/entries?index=0',
    `/api/v1/log/entries/${'ab'.repeat(32)}?verbose=1`,
  ]) {
    out.push({ name: `GET ${path}`, method: 'GET', path });
  }
  out.push({ name: 'GET unknown path', method: 'GET', path: '/api/v1/log/nope' });
  out.push({ name: 'DELETE entries', method: 'DELETE', path: '/api/v1/log/entries' });

  // Bulk retrieve and search.
  const retrieve = (name: string, body: unknown) =>
    out.push({ name: `retrieve ${name}`, path: '/api/v1/log/entries/retrieve', body: JSON.stringify(body) });
  retrieve('not object', [1]);
  retrieve('uuids not array', { entryUUIDs: 'abc' });
  retrieve('too many uuids', { entryUUIDs: Array(11).fill('ab'.repeat(32)) });
  retrieve('uuid number', { entryUUIDs: [1] });
  retrieve('bad uuid', { entryUUIDs: ['xyz'] });
  retrieve('negative index', { logIndexes: [-1] });
  retrieve('string index', { logIndexes: ['1'] });
  retrieve('float index', { logIndexes: [1.5] });
  retrieve('too many indexes', { logIndexes: Array(11).fill(0) });
  retrieve('bad proposed entry', { entries: [{ kind: 'nope' }] });
  retrieve('empty', {});
  retrieve('all null', { entryUUIDs: null, logIndexes: null, entries: null });
  retrieve('all empty', { entryUUIDs: [], logIndexes: [], entries: [] });
  retrieve('unknown field', { logIndexes: [0], treeID: '1' });
  retrieve('misspelt field', { logIndices: [0] });
  const search = (name: string, body: unknown) =>
    out.push({ name: `search ${name}`, path: '/api/v1/index/retrieve', body: JSON.stringify(body) });
  search('empty', {});
  search('not object', 'x');
  search('bad hash', { hash: 'xyz' });
  search('hash wrong length', { hash: 'sha256:abcd' });
  search('hash wrong prefix', { hash: `md5:${'a'.repeat(64)}` });
  search('bad email', { email: 'not-an-email' });
  search('email number', { email: 5 });
  search('empty subject', { subject: '' });
  search('long subject', { subject: 'x'.repeat(513) });
  search('bad operator', { hash: 'a'.repeat(64), operator: 'xor' });
  search('pgp key', { publicKey: { format: 'pgp', content: 'AAAA' } });
  search('x509 garbage', { publicKey: { format: 'x509', content: 'AAAA' } });
  search('no format', { publicKey: { content: 'AAAA' } });
  search('unknown field', { hash: 'a'.repeat(64), extra: true });
  search('oversize', { subject: 'x'.repeat(100_000) });
  return out;
}

describe('bad input', () => {
  it('answers every malformed or hostile request with a 4xx that says what is wrong', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(200);
    console.log(`${all.length} hostile requests`);
    const failures: string[] = [];
    for (const c of all) {
      const res = await fetch(`${ctx.url}${c.path}`, {
        method: c.method ?? 'POST',
        headers: c.body === undefined ? {} : { 'content-type': c.contentType ?? 'application/json' },
        body: c.method === 'GET' ? undefined : c.body,
      });
      const text = await res.text();
      let message = '';
      try {
        message = JSON.parse(text).message ?? '';
      } catch {}
      if (res.status < 400 || res.status >= 500 || message.length === 0) {
        failures.push(`${c.name}: ${res.status} ${text.slice(0, 120)}`);
      }
      if (c.name === 'oversize body') expect(message).toContain(String(1024 * 1024));
    }
    expect(failures).toEqual([]);
    const health = await fetch(`${ctx.url}/healthz`);
    expect(health.status).toBe(200);
    const ok = await fetch(`${ctx.url}/api/v1/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hashedRekord(Buffer.from('still works'), key)),
    });
    expect(ok.status).toBe(201);
    // Nothing malformed made it into the log: only the one valid entry is there.
    const info = (await (await fetch(`${ctx.url}/api/v1/log`)).json()) as { treeSize: number };
    expect(info.treeSize).toBe(1);
  });
});
