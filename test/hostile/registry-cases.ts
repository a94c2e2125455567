// The registry's share of the hostile-input corpus (OCI distribution-spec): invalid repository names (traversal,
// encodings, case, length) on every route, invalid references and digests, every field of an image manifest
// mutated, wrong manifest content types, uploads with bad ranges, digests and session ids, listing parameters, and
// the token endpoint. Every answer must be a 4xx in the spec's error format. The cases carry a bearer token that
// may push to REPO, so a mutation that slipped through would be stored (a 2xx).
import { createHash } from 'node:crypto';
import { fieldMutations, NOT_AN_OBJECT } from './mutations.js';
import { type Case, distinct } from './stack.js';

export const REPO = 'hostile/reg';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** How many upload sessions the cases use (each on its own). */
export const UPLOAD_SESSIONS = 40;

export interface RegistryFixture {
  /** Bearer token with pull, push and delete on REPO. */
  token: string;
  /** Blobs already in REPO: a config and a layer. */
  config: { digest: string; size: number };
  layer: { digest: string; size: number };
  /** One open upload session (Location) per upload case, for REPO. */
  sessions: string[];
}

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

const BAD_NAMES = [
  '..',
  '../etc',
  'a/../b',
  '%2e%2e',
  'a/%2e%2e/b',
  '..%2fetc',
  'a%2fb',
  'a\\b',
  'a%5cb',
  'Upper/case',
  'a//b',
  '-lead',
  'trail-',
  'a..b',
  'a__b_',
  'a%00b',
  'a%0ab',
  'bad%zz',
  'bad%',
  'caf%C3%A9',
  'a%20b',
  '.hidden',
  'a/.b',
  'a'.repeat(256),
  `${'a/'.repeat(200)}b`,
];

const BAD_DIGESTS = [
  'sha256:abc',
  `sha256:${'g'.repeat(64)}`,
  `sha256:${'A'.repeat(64)}`,
  `sha256:${'a'.repeat(63)}`,
  `sha256:${'a'.repeat(65)}`,
  `md5:${'a'.repeat(32)}`,
  `SHA256:${'a'.repeat(64)}`,
  `sha512:${'a'.repeat(64)}`,
  `sha256:${'a'.repeat(62)}%00%00`,
  'nocolon',
  'sha256:',
  ':abc',
  'sha256%3Aabc',
  `sha256:../../${'a'.repeat(56)}`,
];

const BAD_TAGS = [
  't'.repeat(129),
  '.dot',
  '-dash',
  'a%00b',
  'a%20b',
  'a%2fb',
  '%2e%2e',
  'caf%C3%A9',
  'a:b',
  'a@b',
];

export function registryCases(f: RegistryFixture): Case[] {
  const out: Case[] = [];
  const auth = { authorization: `Bearer ${f.token}` };
  const req = (
    name: string,
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string | Buffer,
  ) => out.push({ name, method, path, headers: { ...auth, ...headers }, body });

  // Names: every route.
  for (const n of BAD_NAMES) {
    const short = n.slice(0, 24);
    req(`name ${short} GET manifest`, 'GET', `/v2/${n}/manifests/latest`);
    req(
      `name ${short} PUT manifest`,
      'PUT',
      `/v2/${n}/manifests/latest`,
      { 'content-type': MANIFEST_TYPE },
      '{}',
    );
    req(`name ${short} DELETE manifest`, 'DELETE', `/v2/${n}/manifests/${f.config.digest}`);
    req(`name ${short} GET blob`, 'GET', `/v2/${n}/blobs/${f.layer.digest}`);
    req(`name ${short} POST upload`, 'POST', `/v2/${n}/blobs/uploads/`);
    req(`name ${short} GET tags`, 'GET', `/v2/${n}/tags/list`);
    req(`name ${short} GET referrers`, 'GET', `/v2/${n}/referrers/${f.config.digest}`);
  }
  // References and digests.
  for (const t of BAD_TAGS) {
    req(
      `tag ${t.slice(0, 20)} PUT`,
      'PUT',
      `/v2/${REPO}/manifests/${t}`,
      { 'content-type': MANIFEST_TYPE },
      '{}',
    );
    req(`tag ${t.slice(0, 20)} GET`, 'GET', `/v2/${REPO}/manifests/${t}`);
    req(`tag ${t.slice(0, 20)} DELETE`, 'DELETE', `/v2/${REPO}/manifests/${t}`);
  }
  for (const d of BAD_DIGESTS) {
    const short = d.slice(0, 20);
    req(`digest ${short} GET blob`, 'GET', `/v2/${REPO}/blobs/${d}`);
    req(`digest ${short} DELETE blob`, 'DELETE', `/v2/${REPO}/blobs/${d}`);
    req(`digest ${short} GET manifest`, 'GET', `/v2/${REPO}/manifests/${d}`);
    req(`digest ${short} GET referrers`, 'GET', `/v2/${REPO}/referrers/${d}`);
    req(`digest ${short} mount`, 'POST', `/v2/${REPO}/blobs/uploads/?mount=${d}&from=hostile/other`);
    req(
      `digest ${short} monolithic POST`,
      'POST',
      `/v2/${REPO}/blobs/uploads/?digest=${d}`,
      { 'content-type': 'application/octet-stream' },
      'x',
    );
  }
  req('GET unknown blob', 'GET', `/v2/${REPO}/blobs/${sha('never pushed')}`);
  req('GET unknown manifest', 'GET', `/v2/${REPO}/manifests/${sha('never pushed')}`);
  req('GET unknown tag', 'GET', `/v2/${REPO}/manifests/nope`);
  req('mount from an invalid name', 'POST', `/v2/${REPO}/blobs/uploads/?mount=${f.layer.digest}&from=../x`);

  // Manifests: every field of a valid one, unknown members where the spec allows none, bodies that are not JSON.
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...f.config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...f.layer }],
  };
  const putManifest = (name: string, body: unknown, type = MANIFEST_TYPE) =>
    req(
      `manifest ${name}`,
      'PUT',
      `/v2/${REPO}/manifests/corpus`,
      type ? { 'content-type': type } : {},
      typeof body === 'string' ? body : JSON.stringify(body),
    );
  for (const [name, body] of fieldMutations(manifest, {
    // A manifest without a mediaType is typed by its Content-Type; an image may have no layers. Descriptor sizes
    // are not compared with the stored blobs (yet): a zero size is not listed.
    optional: ['mediaType', 'layers', 'layers.0'],
    allowed: { layers: ['empty array'], 'config.size': ['zero'], 'layers.0.size': ['zero'] },
  }))
    putManifest(name, body);
  for (const [name, raw] of NOT_AN_OBJECT) putManifest(`body ${name}`, raw);
  for (const type of [
    'application/json',
    'text/plain',
    'application/octet-stream',
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.docker.distribution.manifest.v1+prettyjws',
    'x/y',
    '',
  ])
    putManifest(`as ${type || 'no type'}`, manifest, type);
  // Unknown members are not listed: the image spec allows them (extensibility).
  putManifest('with a digest reference that is not this content', manifest);
  out[out.length - 1].path = `/v2/${REPO}/manifests/${sha('other content')}`;
  putManifest('layer not in the repository', {
    ...manifest,
    layers: [{ ...manifest.layers[0], digest: sha('absent') }],
  });
  putManifest('subject not a descriptor', { ...manifest, subject: 'x' });

  // Uploads: each case on its own session.
  let s = 0;
  const session = () => {
    if (s >= f.sessions.length) throw new Error(`more upload cases than the ${f.sessions.length} sessions`);
    return f.sessions[s++];
  };
  const upload = (
    name: string,
    method: string,
    query: string,
    headers: Record<string, string>,
    body?: string,
  ) => req(`upload ${name}`, method, `${session()}${query}`, headers, body);
  for (const range of [
    'bytes=abc',
    '5',
    '-5',
    '0-',
    'a-b',
    '0-1-2',
    `0-${'9'.repeat(20)}`,
    '10-5',
    '1-1',
    '0 - 0',
    '%00',
    '0-0,1-1',
  ])
    upload(
      `PATCH Content-Range ${range}`,
      'PATCH',
      '',
      { 'content-range': range, 'content-type': 'application/octet-stream' },
      'x',
    );
  upload(
    'PATCH range longer than the body',
    'PATCH',
    '',
    { 'content-range': '0-99', 'content-type': 'application/octet-stream' },
    'x',
  );
  for (const d of BAD_DIGESTS)
    upload(
      `PUT digest ${d.slice(0, 20)}`,
      'PUT',
      `?digest=${d}`,
      { 'content-type': 'application/octet-stream' },
      'x',
    );
  upload('PUT without digest', 'PUT', '', { 'content-type': 'application/octet-stream' }, 'x');
  upload(
    'PUT two different digests',
    'PUT',
    `?digest=${sha('x')}&digest=${sha('y')}`,
    { 'content-type': 'application/octet-stream' },
    'x',
  );
  upload(
    'PUT wrong digest',
    'PUT',
    `?digest=${sha('y')}`,
    { 'content-type': 'application/octet-stream' },
    'x',
  );
  upload(
    'PUT bad range',
    'PUT',
    `?digest=${sha('x')}`,
    { 'content-range': 'x-y', 'content-type': 'application/octet-stream' },
    'x',
  );
  for (const id of [
    'not-a-uuid',
    '..',
    '%2e%2e',
    '../../uploads',
    'a'.repeat(300),
    '%00',
    '00000000-0000-0000-0000-000000000000',
  ])
    for (const method of ['GET', 'PATCH', 'PUT', 'DELETE'])
      req(
        `session ${id.slice(0, 16)} ${method}`,
        method,
        `/v2/${REPO}/blobs/uploads/${id}`,
        { 'content-type': 'application/octet-stream' },
        method === 'PATCH' || method === 'PUT' ? 'x' : undefined,
      );

  // Listing parameters.
  for (const n of ['-1', 'abc', '1.5', '1e3', '99999999999999999999', '%00', ''])
    if (n !== '') {
      req(`tags n=${n}`, 'GET', `/v2/${REPO}/tags/list?n=${n}`);
      req(`catalog n=${n}`, 'GET', `/v2/_catalog?n=${n}`);
    }
  for (const last of ['.dot', 't'.repeat(200), '%00', 'a%2fb'])
    req(`tags last=${last.slice(0, 10)}`, 'GET', `/v2/${REPO}/tags/list?last=${last}`);

  // Without credentials, or with broken ones.
  for (const [name, h] of [
    ['no token', undefined],
    ['garbage bearer', 'Bearer garbage'],
    ['alg none', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJzaWdpbCJ9.'],
    [
      'token with a changed character',
      `Bearer ${f.token.slice(0, -2)}${f.token.endsWith('A') ? 'BB' : 'AA'}`,
    ],
    ['Basic on a route', `Basic ${Buffer.from('sigil:x').toString('base64')}`],
    ['bearer without token', 'Bearer '],
  ] as const) {
    const headers: Record<string, string> = h ? { authorization: h } : {};
    out.push({
      name: `auth ${name} POST upload`,
      method: 'POST',
      path: `/v2/${REPO}/blobs/uploads/`,
      headers,
    });
    out.push({
      name: `auth ${name} PUT manifest`,
      method: 'PUT',
      path: `/v2/${REPO}/manifests/x`,
      headers: { ...headers, 'content-type': MANIFEST_TYPE },
      body: JSON.stringify(manifest),
    });
    out.push({
      name: `auth ${name} GET blob`,
      method: 'GET',
      path: `/v2/${REPO}/blobs/${f.layer.digest}`,
      headers,
    });
    out.push({ name: `auth ${name} catalog`, method: 'GET', path: '/v2/_catalog', headers });
  }
  // Another repository than the token names.
  req('token for another repository', 'POST', '/v2/hostile/other/blobs/uploads/');
  req(
    'token for another repository (manifest)',
    'PUT',
    '/v2/hostile/other/manifests/x',
    { 'content-type': MANIFEST_TYPE },
    JSON.stringify(manifest),
  );

  // The token endpoint (few wrong passwords: each one costs a password check, which is rate limited).
  const token = (name: string, query: string, headers: Record<string, string> = {}) =>
    out.push({ name: `token endpoint ${name}`, method: 'GET', path: `/v2/token?${query}`, headers });
  for (const [name, h] of [
    ['wrong password', `Basic ${Buffer.from('sigil:wrong').toString('base64')}`],
    ['unknown user', `Basic ${Buffer.from('nobody:x').toString('base64')}`],
    ['no colon', `Basic ${Buffer.from('sigil').toString('base64')}`],
    ['not base64', 'Basic !!!'],
    ['bearer', 'Bearer x'],
    ['empty Basic', 'Basic '],
  ] as const)
    token(name, `service=sigil-registry&scope=repository:${REPO}:pull`, { authorization: h });
  for (const scope of [
    'repository:../x:pull',
    'repository:Upper:pull',
    'repository:a:',
    'nonsense',
    'repository::pull',
    `repository:${'a'.repeat(300)}:pull`,
  ])
    token(`scope ${scope.slice(0, 24)}`, `service=sigil-registry&scope=${scope}`, {
      authorization: `Basic ${Buffer.from('nobody:x').toString('base64')}`,
    });
  for (const service of ['other', '', '%00']) token(`service ${service || 'empty'}`, `service=${service}`);
  out.push({
    name: 'token endpoint POST form without grant',
    method: 'POST',
    path: '/v2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'service=sigil-registry',
  });
  out.push({
    name: 'token endpoint POST password grant wrong',
    method: 'POST',
    path: '/v2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=password&username=sigil&password=wrong&service=sigil-registry',
  });
  out.push({
    name: 'token endpoint POST JSON',
    method: 'POST',
    path: '/v2/token',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });

  // Paths that name no endpoint, methods no route takes.
  for (const p of [
    '/v2/x/nothing',
    `/v2/${REPO}/blobs`,
    `/v2/${REPO}/manifests/`,
    '/v2/..',
    '/v2/%2e%2e',
    '/v2/_catalog/x',
  ])
    req(`unknown path ${p}`, 'GET', p);
  for (const method of ['OPTIONS', 'TRACE', 'PROPFIND', 'PATCH'])
    req(`${method} manifest`, method, `/v2/${REPO}/manifests/latest`);
  return distinct(out);
}
