// The transparency log's share of the hostile-input corpus (Rekor v1 API and tlog tiles): every field of each
// entry kind, retrieve and search query mutated, bodies that are not JSON objects, wrong content types, and
// hostile path and query parameters on every read. Every case must get a 4xx with a JSON message.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { hashedRekord, newKey } from '../log/helpers.js';
import { fieldMutations, mutate, NOT_AN_OBJECT, unknownMembers, WRONG_CONTENT_TYPES } from './mutations.js';
import { type Case, distinct, postCase } from './stack.js';

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');

function dsse() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
  const type = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
  const sig = sign('sha256', pae, privateKey);
  const pem = publicKey.export({ type: 'spki', format: 'pem' });
  return {
    entry: {
      kind: 'dsse',
      apiVersion: '0.0.1',
      spec: {
        proposedContent: {
          envelope: JSON.stringify({
            payload: b64(payload),
            payloadType: type,
            signatures: [{ keyid: '', sig: b64(sig) }],
          }),
          verifiers: [b64(pem)],
        },
      },
    },
    envelope: { payload: b64(payload), payloadType: type, signatures: [{ keyid: '', sig: b64(sig) }] },
    intoto: {
      kind: 'intoto',
      apiVersion: '0.0.2',
      spec: {
        content: {
          envelope: {
            payloadType: type,
            payload: b64(b64(payload)),
            signatures: [{ sig: b64(b64(sig)), publicKey: b64(pem) }],
          },
        },
      },
    },
  };
}

export function logCases(): Case[] {
  const out: Case[] = [];
  const post = (name: string, path: string, body: unknown, contentType?: string) =>
    out.push(postCase(name, path, body, contentType));
  const get = (name: string, path: string) => out.push({ name, method: 'GET', path });

  const key = newKey();
  const rekord = hashedRekord(Buffer.from('hostile corpus'), key);
  const { entry: dsseEntry, envelope, intoto } = dsse();

  // Entries: every field of each kind, unknown members, and the envelope inside a DSSE entry (a JSON string).
  const entries = '/api/v1/log/entries';
  for (const [name, body] of fieldMutations(rekord)) post(`hashedrekord ${name}`, entries, body);
  for (const [name, body] of unknownMembers(rekord)) post(`hashedrekord ${name}`, entries, body);
  for (const [name, body] of fieldMutations(dsseEntry)) post(`dsse ${name}`, entries, body);
  for (const [name, body] of fieldMutations(envelope, { skip: ['signatures.0.keyid'] }))
    post(
      `dsse envelope ${name}`,
      entries,
      mutate(dsseEntry, 'spec.proposedContent.envelope', JSON.stringify(body)),
    );
  for (const [name, body] of fieldMutations(intoto)) post(`intoto ${name}`, entries, body);
  for (const [name, raw] of NOT_AN_OBJECT) post(`entry body ${name}`, entries, raw);
  for (const type of WRONG_CONTENT_TYPES) post(`entry as ${type}`, entries, rekord, type);
  for (const [name, v] of [
    ['md5', 'md5'],
    ['sha1', 'sha1'],
    ['SHA256', 'SHA256'],
    ['sha3-256', 'sha3-256'],
  ])
    post(`hashedrekord algorithm ${name}`, entries, mutate(rekord, 'spec.data.hash.algorithm', v));
  const digest = createHash('sha256').update('hostile corpus').digest('hex');
  for (const [name, v] of [
    ['odd length', digest.slice(1)],
    ['sha512 length', 'ab'.repeat(64)],
    ['sha1 length', 'ab'.repeat(20)],
    ['uppercase non-hex', 'G'.repeat(64)],
    ['other digest', createHash('sha256').update('x').digest('hex')],
    ['prefixed', `sha256:${digest}`],
  ])
    post(`hashedrekord digest ${name}`, entries, mutate(rekord, 'spec.data.hash.value', v));

  // Retrieve: each list, and each list's first element.
  const retrieve = '/api/v1/log/entries/retrieve';
  const q = { entryUUIDs: ['ab'.repeat(32)], logIndexes: [0], entries: [rekord] };
  for (const [name, body] of fieldMutations(
    { entryUUIDs: ['ab'.repeat(32)], logIndexes: [0], entries: [{ kind: 'hashedrekord' }] },
    {
      // The lists are each optional and null means absent (Go clients send null for an empty list).
      optional: ['entryUUIDs', 'logIndexes', 'entries', 'entryUUIDs.0', 'logIndexes.0', 'entries.0'],
      allowed: {
        entryUUIDs: ['null', 'empty array'],
        logIndexes: ['null', 'empty array'],
        entries: ['null', 'empty array'],
        'logIndexes.0': ['zero'],
      },
      skip: ['entries.0.kind'],
    },
  ))
    post(`retrieve ${name}`, retrieve, body);
  for (const [name, body] of unknownMembers(q)) post(`retrieve ${name}`, retrieve, body);
  for (const [name, raw] of NOT_AN_OBJECT) post(`retrieve body ${name}`, retrieve, raw);
  for (const type of WRONG_CONTENT_TYPES) post(`retrieve as ${type}`, retrieve, q, type);
  for (const [name, e] of fieldMutations(rekord, { skip: ['spec.signature', 'spec.data.hash.value'] }))
    post(`retrieve proposed ${name}`, retrieve, { entries: [e] });
  post('retrieve 11 uuids', retrieve, { entryUUIDs: Array(11).fill('ab'.repeat(32)) });
  post('retrieve 11 indexes', retrieve, { logIndexes: Array.from({ length: 11 }, (_, i) => i) });
  post('retrieve empty', retrieve, {});

  // Search: each criterion.
  const search = '/api/v1/index/retrieve';
  const query = {
    hash: `sha256:${digest}`,
    email: 'dev@example.com',
    subject: 'https://github.com/acme/x',
    publicKey: { format: 'x509', content: b64(key.pem) },
    operator: 'or',
  };
  for (const [name, body] of fieldMutations(query, {
    // Each criterion is optional on its own; a subject is free text of 1 to 512 characters.
    optional: ['hash', 'email', 'subject', 'publicKey', 'operator'],
    allowed: {
      subject: [
        'spaces',
        'unicode',
        'emoji',
        'control characters',
        'CRLF',
        'lone surrogate',
        'invalid base64',
        'base64 of garbage',
        'bad DER',
        'path traversal',
      ],
    },
  }))
    post(`search ${name}`, search, body);
  for (const [name, body] of unknownMembers(query)) post(`search ${name}`, search, body);
  for (const [name, raw] of NOT_AN_OBJECT) post(`search body ${name}`, search, raw);
  for (const type of WRONG_CONTENT_TYPES) post(`search as ${type}`, search, query, type);
  for (const h of [
    'md5:' + 'a'.repeat(32),
    'sha384:' + 'a'.repeat(96),
    'sha256:',
    'sha256:' + 'a'.repeat(63),
    'a'.repeat(65),
    'sha1:' + 'a'.repeat(64),
  ])
    post(`search hash ${h.slice(0, 12)}…${h.length}`, search, { hash: h });
  for (const f of ['pgp', 'ssh', 'minisign', 'tuf', 'X509', ''])
    post(`search key format ${f || 'empty'}`, search, { publicKey: { format: f, content: b64(key.pem) } });
  for (const e of ['no-at', '@', 'a@', '@b', 'a b@c', 'a@b c'])
    post(`search email ${e}`, search, { email: e });
  post('search subject 513 chars', search, { subject: 'x'.repeat(513) });
  post('search empty', search, {});
  post('search operator only', search, { operator: 'and' });

  // Reads: query parameters and path parameters.
  const badInts = [
    '',
    '-1',
    'abc',
    '1e3',
    '1.5',
    '0x10',
    '%00',
    '+1',
    '%201',
    '1%20',
    '99999999999999999999',
    '9007199254740993',
    '%E2%98%83',
    '..%2F..%2F',
    `${'1'.repeat(5000)}`,
  ];
  for (const v of badInts) get(`entries logIndex=${v.slice(0, 20)}`, `${entries}?logIndex=${v}`);
  get('entries logIndex past the end', `${entries}?logIndex=1000000`);
  get('entries without logIndex', entries);
  get('entries logIndex twice', `${entries}?logIndex=0&logIndex=1`);
  get('entries unknown param', `${entries}?logIndex=0&verbose=1`);
  for (const u of [
    'abc',
    'g'.repeat(64),
    'a'.repeat(63),
    'a'.repeat(65),
    'a'.repeat(80),
    'a'.repeat(81),
    'a'.repeat(1000),
    'ab'.repeat(32),
    '..%2F..%2Fetc%2Fpasswd',
    '%00',
    '%E2%98%83',
    'AB'.repeat(32).replace('A', 'Z'),
    `${'0'.repeat(16)}${'ab'.repeat(32)}`,
    `${'z'.repeat(16)}${'ab'.repeat(32)}`,
    '%2e%2e',
    'a%20b',
  ])
    get(`entry uuid ${u.slice(0, 16)}`, `${entries}/${u}`);
  for (const [first, last] of [
    ['', ''],
    ['1', ''],
    ['', '0'],
    ['0', '1'],
    ['2', '1'],
    ['1', '999999'],
    ['-1', '1'],
    ['a', '1'],
    ['1', 'b'],
    ['1.0', '1'],
    ['1', '1e1'],
    ['1', '99999999999999999999'],
  ])
    get(`proof firstSize=${first} lastSize=${last}`, `/api/v1/log/proof?firstSize=${first}&lastSize=${last}`);
  for (const t of ['x', '-1', '1', '99999999999999999999', '%00', ''])
    get(`proof treeID=${t}`, `/api/v1/log/proof?lastSize=1&treeID=${t}`);
  for (const t of ['x', '-1', '1', '1.5', '%00'])
    get(`publicKey treeID=${t}`, `/api/v1/log/publicKey?treeID=${t}`);
  for (const s of ['maybe', '1', 'TRUE', '', '%00'])
    if (s !== '') get(`log stable=${s}`, `/api/v1/log?stable=${s}`);
  for (const p of ['treeID=1', 'foo=bar', 'stable=true&stable=false']) get(`log ${p}`, `/api/v1/log?${p}`);
  for (const t of [
    'tile/0/1',
    'tile/0/x001',
    'tile/0/000.p/0',
    'tile/0/000.p/256',
    'tile/0/000.p/-1',
    'tile/64/000',
    'tile/-1/000',
    'tile/0/000.p/999',
    'tile/entries/000.p/x',
    'tile/0/x000/001',
    'tile/abc',
    'tile/0/000/extra',
    'tile/5/000',
    'tile/0/x999/999',
    'tile/0/..%2F..%2F',
    'tile/0/%00',
    'tile/',
    'tile/0/0001',
  ])
    get(`tile ${t}`, `/tlog/${t}`);
  // Methods no route takes.
  for (const method of ['PUT', 'DELETE', 'PATCH'])
    for (const path of [entries, retrieve, search, '/api/v1/log', '/api/v1/log/proof'])
      out.push({
        name: `${method} ${path}`,
        method,
        path,
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
  for (const path of [
    '/api/v1/log/nope',
    '/api/v1/log/entries/x/y',
    '/api/v2/log/entries',
    '/api/v1/index/search',
  ])
    get(`unknown path ${path}`, path);
  return distinct(out);
}
