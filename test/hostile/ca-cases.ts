// The CA's share of the hostile-input corpus: Fulcio's v2 and legacy v1 signing requests (every field mutated, the
// identity token forged or mangled in every way, bodies that are not JSON objects, wrong content types, broken
// CSRs), and the CT log's RFC 6962 endpoints. The cases are built around one real identity token, so a mutation
// that slipped through would be issued a certificate and show up as a 2xx.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { fieldMutations, mutate, NOT_AN_OBJECT, WRONG_CONTENT_TYPES, WRONG_VALUES } from './mutations.js';
import { type Case, distinct } from './stack.js';

const b64u = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Tokens that must not verify: forged, mangled, or for the wrong audience or time, built from a real one. */
function badTokens(token: string): [string, string][] {
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const resign = (hdr: unknown, body: unknown) => {
    const input = `${b64u(hdr)}.${b64u(body)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: other, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
  const now = Math.floor(Date.now() / 1000);
  return [
    ['alg none', `${b64u({ ...header, alg: 'none' })}.${p}.`],
    ['alg HS256', `${b64u({ ...header, alg: 'HS256' })}.${p}.${s}`],
    ['alg RS256', `${b64u({ ...header, alg: 'RS256' })}.${p}.${s}`],
    ['crit header', `${b64u({ ...header, crit: ['exp'] })}.${p}.${s}`],
    ['signed by another key', resign(header, claims)],
    ['claims changed', `${h}.${b64u({ ...claims, repository: 'evil/repo' })}.${s}`],
    ['sub changed', `${h}.${b64u({ ...claims, sub: 'repo:evil/x:ref:refs/heads/main' })}.${s}`],
    ['wrong audience (resigned)', resign(header, { ...claims, aud: 'other' })],
    ['expired (resigned)', resign(header, { ...claims, exp: now - 3600, iat: now - 7200, nbf: now - 7200 })],
    ['other issuer (resigned)', resign(header, { ...claims, iss: 'https://evil.example' })],
    ['unknown kid', resign({ ...header, kid: 'nope' }, claims)],
    ['signature truncated', `${h}.${p}.${s.slice(0, 40)}`],
    ['signature flipped', `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`],
    ['no signature', `${h}.${p}`],
    ['four segments', `${h}.${p}.${s}.${s}`],
    ['padded base64url', `${h}=.${p}.${s}`],
    ['standard base64', `${Buffer.from(Buffer.from(h, 'base64url')).toString('base64')}.${p}.${s}`],
    ['whitespace inside', `${h}.${p.slice(0, 5)} ${p.slice(5)}.${s}`],
    ['header not JSON', `${b64u('not json')}.${p}.${s}`],
    ['claims not JSON', `${h}.${b64u('not json')}.${s}`],
    ['claims an array', `${h}.${b64u([1])}.${s}`],
    ['JWE-shaped', `${h}.${p}.${s}.x.y`],
    ['empty segments', '..'],
    ['a dot', '.'],
    ['random text', 'not-a-token'],
    ['huge', `${h}.${'A'.repeat(60_000)}.${s}`],
  ];
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)
    ?.join('\n')}\n-----END ${label}-----\n`;
}

export function caCases(token: string, sub: string): Case[] {
  const out: Case[] = [];
  const post = (name: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    out.push({
      name,
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const keyDer = publicKey.export({ type: 'spki', format: 'der' });
  const proof = sign('sha256', Buffer.from(sub), privateKey).toString('base64');
  const v2 = {
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: keyPem }, proofOfPossession: proof },
  };
  const v2Path = '/api/v2/signingCert';
  const v1Path = '/api/v1/signingCert';
  const auth = { authorization: `Bearer ${token}` };
  const v1 = {
    publicKey: { algorithm: 'ecdsa', content: keyDer.toString('base64') },
    signedEmailAddress: proof,
  };

  // Every field of each form. `algorithm` is informational in Fulcio (the key says what it is): not mutated.
  for (const [name, body] of fieldMutations(v2, { skip: ['publicKeyRequest.publicKey.algorithm'] }))
    post(`v2 ${name}`, v2Path, body);
  for (const [name, body] of fieldMutations(v1, { skip: ['publicKey.algorithm'] }))
    post(`v1 ${name}`, v1Path, body, auth);
  // The token: in the body (v2), in the header (v1 and v2).
  for (const [name, t] of badTokens(token)) {
    post(`v2 token ${name}`, v2Path, mutate(v2, 'credentials.oidcIdentityToken', t));
    post(`v2 header token ${name}`, v2Path, mutate(v2, 'credentials', undefined), {
      authorization: `Bearer ${t}`,
    });
    post(`v1 token ${name}`, v1Path, v1, { authorization: `Bearer ${t}` });
  }
  for (const [name, h] of [
    ['missing', undefined],
    ['Basic', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['empty Bearer', 'Bearer '],
    ['Bearer with two words', `Bearer ${token} extra`],
    ['no scheme', token],
  ] as const)
    post(`v1 authorization ${name}`, v1Path, v1, h ? { authorization: h } : {});
  // Keys and proofs that do not belong together.
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys: [string, string][] = [
    ['other key', otherKey.publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    ['private key', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
    [
      'P-224 key',
      generateKeyPairSync('ec', { namedCurve: 'P-224' })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    ],
    [
      'secp256k1 key',
      generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    ],
    [
      'RSA 1024 key',
      generateKeyPairSync('rsa', { modulusLength: 1024 })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    ],
    [
      'DSA key',
      generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    ],
    [
      'X25519 key',
      generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ],
    ['truncated PEM', keyPem.slice(0, 60)],
    ['PEM with garbage body', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'],
    ['certificate label', keyPem.replaceAll('PUBLIC KEY', 'CERTIFICATE')],
    ['bad DER', pem('PUBLIC KEY', Buffer.from([0x30, 0x82, 0xff, 0xff, 0x02, 0x01, 0x00]))],
    ['truncated DER', pem('PUBLIC KEY', keyDer.subarray(0, 40))],
    ['DER with trailing bytes', pem('PUBLIC KEY', Buffer.concat([keyDer, Buffer.from([0, 0])]))],
  ];
  // A second PEM block is ignored and DER is taken as well, as in Fulcio; neither is listed here.
  for (const [name, content] of keys)
    post(`v2 publicKey ${name}`, v2Path, mutate(v2, 'publicKeyRequest.publicKey.content', content));
  const proofs: [string, string][] = [
    ['over something else', sign('sha256', Buffer.from('other'), privateKey).toString('base64')],
    ['by another key', sign('sha256', Buffer.from(sub), otherKey.privateKey).toString('base64')],
    ['over the token', sign('sha256', Buffer.from(token), privateKey).toString('base64')],
    ['sha1', sign('sha1', Buffer.from(sub), privateKey).toString('base64')],
    [
      'raw r||s',
      sign('sha256', Buffer.from(sub), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64'),
    ],
    ['truncated', proof.slice(0, 20)],
    ['one byte', 'AA=='],
    ['zeros', Buffer.alloc(72).toString('base64')],
    ['the digest', createHash('sha256').update(sub).digest('base64')],
  ];
  for (const [name, p] of proofs) {
    post(`v2 proof ${name}`, v2Path, mutate(v2, 'publicKeyRequest.proofOfPossession', p));
    post(`v1 proof ${name}`, v1Path, mutate(v1, 'signedEmailAddress', p), auth);
  }
  // CSRs that are not a CSR, or not this key's.
  const csrs: [string, string][] = [
    ['garbage PEM', pem('CERTIFICATE REQUEST', Buffer.from('garbage'))],
    ['bad DER', pem('CERTIFICATE REQUEST', Buffer.from([0x30, 0x82, 0xff, 0xff, 0x30, 0x00]))],
    ['a public key', keyPem],
    ['empty PEM', '-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n'],
    ['text', 'not a csr'],
    [
      'deep DER',
      pem(
        'CERTIFICATE REQUEST',
        Buffer.from(
          `${'30 80 '.repeat(500)}`
            .trim()
            .split(' ')
            .map((x) => Number.parseInt(x, 16)),
        ),
      ),
    ],
  ];
  for (const [name, c] of csrs) {
    post(`v2 CSR ${name}`, v2Path, {
      credentials: { oidcIdentityToken: token },
      certificateSigningRequest: Buffer.from(c).toString('base64'),
    });
    post(`v1 CSR ${name}`, v1Path, { certificateSigningRequest: Buffer.from(c).toString('base64') }, auth);
  }
  post('v2 both key and CSR', v2Path, {
    ...v2,
    certificateSigningRequest: Buffer.from(pem('CERTIFICATE REQUEST', Buffer.from('x'))).toString('base64'),
  });
  for (const [name, raw] of NOT_AN_OBJECT) {
    post(`v2 body ${name}`, v2Path, raw);
    post(`v1 body ${name}`, v1Path, raw, auth);
  }
  // Like Fulcio (grpc-gateway decodes any body as JSON), text/plain is read as JSON; every other type is refused.
  for (const type of WRONG_CONTENT_TYPES.filter((t) => t !== 'text/plain')) {
    post(`v2 as ${type}`, v2Path, v2, { 'content-type': type });
    post(`v1 as ${type}`, v1Path, v1, { ...auth, 'content-type': type });
  }
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH'])
    for (const path of [v2Path, v1Path])
      out.push({
        name: `${method} ${path}`,
        method,
        path,
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });

  // CT (RFC 6962 §4): submissions and reads with bad parameters.
  const ct = '/ct/v1';
  for (const [name, v] of WRONG_VALUES)
    post(`ct add-pre-chain chain = ${name}`, `${ct}/add-pre-chain`, { chain: v });
  for (const [name, v] of WRONG_VALUES)
    if (typeof v === 'string' || v === null)
      post(`ct add-pre-chain chain[0] = ${name}`, `${ct}/add-pre-chain`, { chain: [v] });
  post('ct add-pre-chain a public key', `${ct}/add-pre-chain`, { chain: [keyDer.toString('base64')] });
  for (const [name, raw] of NOT_AN_OBJECT) post(`ct add-pre-chain body ${name}`, `${ct}/add-pre-chain`, raw);
  post('ct add-chain', `${ct}/add-chain`, { chain: [keyDer.toString('base64')] });
  const badIndex = ['', '-1', 'a', '1.5', '1e3', '0x1', '9999999999999999999', '%00', '%201'];
  const get = (name: string, path: string) => out.push({ name, method: 'GET', path });
  for (const v of badIndex) {
    get(`ct get-entries start=${v}`, `${ct}/get-entries?start=${v}&end=0`);
    get(`ct get-entries end=${v}`, `${ct}/get-entries?start=0&end=${v}`);
    get(`ct get-sth-consistency first=${v}`, `${ct}/get-sth-consistency?first=${v}&second=1`);
    get(`ct get-sth-consistency second=${v}`, `${ct}/get-sth-consistency?first=0&second=${v}`);
    get(
      `ct get-proof-by-hash tree_size=${v}`,
      `${ct}/get-proof-by-hash?tree_size=${v}&hash=${encodeURIComponent(Buffer.alloc(32).toString('base64'))}`,
    );
  }
  get('ct get-entries end before start', `${ct}/get-entries?start=5&end=1`);
  get('ct get-entries past the end', `${ct}/get-entries?start=100000&end=100001`);
  get('ct get-entries no params', `${ct}/get-entries`);
  get('ct get-sth-consistency reversed', `${ct}/get-sth-consistency?first=2&second=1`);
  get('ct get-sth-consistency past the end', `${ct}/get-sth-consistency?first=1&second=100000`);
  for (const [name, h] of [
    ['missing', undefined],
    ['empty', ''],
    ['short', Buffer.alloc(31).toString('base64')],
    ['long', Buffer.alloc(33).toString('base64')],
    ['not base64', '!!!!'],
    ['hex', 'ab'.repeat(32)],
    ['unknown leaf', Buffer.alloc(32, 7).toString('base64')],
  ] as const)
    get(
      `ct get-proof-by-hash hash ${name}`,
      `${ct}/get-proof-by-hash?tree_size=1${h === undefined ? '' : `&hash=${encodeURIComponent(h)}`}`,
    );
  get(
    'ct get-proof-by-hash tree_size past the end',
    `${ct}/get-proof-by-hash?tree_size=100000&hash=${encodeURIComponent(Buffer.alloc(32, 7).toString('base64'))}`,
  );
  for (const p of ['/ct/v1/nope', '/ct/v2/get-sth', '/ct/v1/get-sth/x']) get(`ct unknown path ${p}`, p);
  return distinct(out);
}
