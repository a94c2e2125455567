// The CI issuer's share of the hostile-input corpus: GitHub Actions' token request (audience, run values a job
// may not set, mangled or foreign request secrets), the run start API (every field mutated, bodies that are not
// objects), the dev-token route `sigil up` keeps off, and methods the discovery routes do not take. The cases are
// built around a real runner secret, so one that slipped through would get a token (a 2xx).
import { fieldMutations, NOT_AN_OBJECT, WRONG_CONTENT_TYPES, WRONG_VALUES } from './mutations.js';
import { type Case, distinct } from './stack.js';

export function oidcCases(runnerSecret: string): Case[] {
  const out: Case[] = [];
  const auth = { authorization: `bearer ${runnerSecret}` };
  const token = (name: string, query: string, headers: Record<string, string> = auth) =>
    out.push({ name: `token ${name}`, method: 'GET', path: `/oidc/token?api-version=2.0${query}`, headers });

  // Audiences: 1-256 printable ASCII characters, once (a malformed escape is taken literally, as printable).
  for (const [name, a] of [
    ['empty', ''],
    ['257 characters', 'a'.repeat(257)],
    ['10 000 characters', 'a'.repeat(10_000)],
    ['NUL', '%00'],
    ['newline', 'a%0Ab'],
    ['CRLF', 'a%0D%0Ab'],
    ['tab', 'a%09b'],
    ['escape', '%1B%5B31m'],
    ['DEL', '%7F'],
    ['given twice', 'a&audience=b'],
  ])
    token(`audience ${name}`, `&audience=${a}`);
  // The run's values are fixed when it starts: a job naming any of them is refused, whatever the value.
  for (const param of ['sha', 'run_id', 'run_number', 'run_attempt', 'event_name'])
    for (const v of ['', '1', 'a'.repeat(40), '%00', '..%2F..', 'x&x=1'])
      token(`sets ${param}=${v.slice(0, 10)}`, `&audience=sigstore&${param}=${v}`);
  // Secrets: absent, mangled, in the wrong scheme, someone else's.
  const secrets: [string, Record<string, string>][] = [
    ['no authorization', {}],
    ['empty bearer', { authorization: 'bearer ' }],
    ['bearer only', { authorization: 'bearer' }],
    ['Basic scheme', { authorization: `Basic ${Buffer.from(`x:${runnerSecret}`).toString('base64')}` }],
    ['token scheme', { authorization: `token ${runnerSecret}` }],
    ['no scheme', { authorization: runnerSecret }],
    ['two secrets', { authorization: `bearer ${runnerSecret} ${runnerSecret}` }],
    ['truncated secret', { authorization: `bearer ${runnerSecret.slice(0, -4)}` }],
    [
      'secret with a changed character',
      { authorization: `bearer ${runnerSecret.slice(0, -1)}${runnerSecret.endsWith('A') ? 'B' : 'A'}` },
    ],
    ['secret twice as long', { authorization: `bearer ${runnerSecret}${runnerSecret}` }],
    ['uppercased secret', { authorization: `bearer ${runnerSecret.toUpperCase()}` }],
    ['unknown secret', { authorization: `bearer ${'s'.repeat(43)}` }],
    ['unknown run secret', { authorization: `bearer run_${'r'.repeat(43)}` }],
    ['a JWT', { authorization: 'bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }],
    ['huge secret', { authorization: `bearer ${'x'.repeat(8_000)}` }],
    ['latin-1 bytes', { authorization: 'bearer \u00ff\u00fe\u00e9' }],
    ['path traversal', { authorization: 'bearer ../../oidc/runners.json' }],
  ];
  for (const [name, headers] of secrets) {
    token(`with ${name}`, '&audience=sigstore', headers);
    out.push({
      name: `runs with ${name}`,
      method: 'POST',
      path: '/oidc/runs',
      headers: { 'content-type': 'application/json', ...headers },
      body: '{}',
    });
  }

  // Run starts: every field, and every body that is not one object.
  const run = {
    sha: 'ab'.repeat(20),
    run_id: '12345',
    run_number: '7',
    run_attempt: '1',
    event_name: 'push',
    ttl_seconds: 600,
  };
  const runs = (name: string, body: string, type = 'application/json') =>
    out.push({
      name: `runs ${name}`,
      method: 'POST',
      path: '/oidc/runs',
      headers: { 'content-type': type, ...auth },
      body,
    });
  for (const [name, body] of fieldMutations(run, {
    // Every value has a default (the runner's commit, a fresh run id, ...).
    optional: Object.keys(run),
  }))
    runs(name, JSON.stringify(body));
  for (const [name, v] of [
    ['sha short', { sha: 'abc' }],
    ['sha 41 characters', { sha: 'a'.repeat(41) }],
    ['sha uppercase', { sha: 'AB'.repeat(20) }],
    ['run_id negative', { run_id: '-1' }],
    ['run_id with letters', { run_id: '12a' }],
    ['event_name with spaces', { event_name: 'push now' }],
    ['ttl 0', { ttl_seconds: 0 }],
    ['ttl a year', { ttl_seconds: 31_536_000 }],
    ['ttl fractional', { ttl_seconds: 0.5 }],
    ['unknown field', { repository: 'evil/repo' }],
    ['claims smuggled', { claims: { repository: 'evil/repo' } }],
  ] as const)
    runs(name, JSON.stringify({ ...run, ...v }));
  for (const [name, raw] of NOT_AN_OBJECT) runs(`body ${name}`, raw);
  for (const type of WRONG_CONTENT_TYPES) runs(`as ${type}`, JSON.stringify(run), type);
  runs('over the body limit', JSON.stringify({ ...run, pad: 'x'.repeat(20_000) }));

  // Dev tokens are off in `sigil up`: refused whatever is asked.
  for (const [name, v] of WRONG_VALUES.slice(0, 12))
    out.push({
      name: `dev token with repository ${name}`,
      method: 'POST',
      path: '/oidc/dev/token',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repository: v, claims: { sub: 'admin' } }),
    });
  // Discovery and keys are read-only.
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'])
    for (const path of ['/.well-known/openid-configuration', '/.well-known/jwks', '/oidc/token'])
      out.push({
        name: `${method} ${path}`,
        method,
        path,
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
  for (const method of ['GET', 'PUT', 'DELETE'])
    out.push({ name: `${method} /oidc/runs`, method, path: '/oidc/runs', headers: auth });
  for (const path of [
    '/.well-known/openid-configuration/x',
    '/.well-known/jwks.json',
    '/oidc/../oidc/runners.json',
    '/oidc/runners.json',
    '/oidc/token/x',
  ])
    out.push({ name: `unknown path ${path}`, method: 'GET', path, headers: auth });
  return distinct(out);
}
