// The building blocks of the hostile-input corpus: a valid request body is taken apart field by field, and each
// field (or list element) is replaced by every value in a fixed table, or deleted, or given an unknown sibling.
// Deterministic: the same table every run, so a failing case has the same name next time.

/** Values no field of any JSON API here accepts where a structured value or a well-formed string is expected. */
export const WRONG_VALUES: [string, unknown][] = [
  ['null', null],
  ['zero', 0],
  ['negative', -1],
  ['float', 1.5],
  ['huge number', 1e308],
  ['true', true],
  ['false', false],
  ['empty array', []],
  ['array of strings', ['x', 'y']],
  ['empty object', {}],
  ['object', { a: 1 }],
  ['empty string', ''],
  ['spaces', '   '],
  ['control characters', '\u0000\u0001\u0007\u001b[31m\u007f'],
  ['CRLF', 'a\r\nX-Injected: 1'],
  ['unicode', 'ünïcødé ☃ \u202e\ufeff'],
  ['emoji', '😀'.repeat(50)],
  ['lone surrogate', '\ud800x'],
  ['invalid base64', '!!!not*base64!!!'],
  ['base64 of garbage', Buffer.from('garbage bytes, not DER or PEM').toString('base64')],
  ['bad DER', Buffer.from([0x30, 0x82, 0xff, 0xff, 0x02, 0x01]).toString('base64')],
  ['path traversal', '../../../../etc/passwd'],
  ['long string', 'A'.repeat(100_000)],
  ['deep nesting', nest(400)],
  ['prototype pollution', JSON.parse('{"__proto__":{"polluted":true}}')],
];

/** A value nested `depth` objects deep. */
export function nest(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

/** Bodies that are not a JSON object at all. */
export const NOT_AN_OBJECT: [string, string][] = [
  ['empty body', ''],
  ['whitespace', ' \n\t '],
  ['open brace', '{'],
  ['open bracket', '['],
  ['truncated object', '{"a":'],
  ['trailing comma', '{"a":1,}'],
  ['single quotes', "{'a':1}"],
  ['two objects', '{}{}'],
  ['bare word', 'hello'],
  ['NUL bytes', '\u0000\u0000'],
  ['JSON null', 'null'],
  ['JSON number', '12345'],
  ['JSON string', '"string"'],
  ['JSON true', 'true'],
  ['JSON array', '[]'],
  ['array of objects', '[{}]'],
  ['comment', '/* x */ {}'],
  ['NaN', '{"a":NaN}'],
  ['unterminated string', '{"a":"b'],
  ['deep arrays', `${'['.repeat(20_000)}${']'.repeat(20_000)}`],
  ['deep objects', `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`],
  ['huge number literal', `{"a":${'9'.repeat(10_000)}}`],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]).toString('latin1')],
];

/** Content types a JSON endpoint must refuse. */
export const WRONG_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/jsonx',
  'image/png',
];

// biome-ignore lint/suspicious/noExplicitAny: the generators walk arbitrary JSON
type Json = any;

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/** Sets (or, for `undefined`, deletes) the value at a dotted path (numbers index arrays) in a copy of `base`. */
export function mutate(base: unknown, path: string, value: unknown): Json {
  const copy = clone(base) as Json;
  const parts = path.split('.');
  let at = copy;
  for (const p of parts.slice(0, -1)) at = at[p];
  const last = parts[parts.length - 1];
  if (value === undefined) {
    if (Array.isArray(at)) at.splice(Number(last), 1);
    else delete at[last];
  } else at[last] = value;
  return copy;
}

/** Every path in a JSON value that leads to an object member or array element, parents first. */
export function paths(v: unknown, prefix = ''): string[] {
  const out: string[] = [];
  if (v && typeof v === 'object') {
    for (const [k, child] of Object.entries(v)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.push(p, ...paths(child, p));
    }
  }
  return out;
}

/** Paths whose value is an object (where an unknown member can be added). */
export function objectPaths(v: unknown, prefix = ''): string[] {
  const out: string[] = [];
  if (v && typeof v === 'object' && !Array.isArray(v)) out.push(prefix);
  if (v && typeof v === 'object') {
    for (const [k, child] of Object.entries(v))
      out.push(...objectPaths(child, prefix ? `${prefix}.${k}` : k));
  }
  return out;
}

/**
 * For every field of `valid` (except those in `skip`): deleted, and replaced by each WRONG_VALUES entry that is not
 * in that field's `allowed` list (values the API legitimately takes there). Yields [case name, body].
 */
export function fieldMutations(
  valid: unknown,
  o: { skip?: string[]; allowed?: Record<string, string[]>; optional?: string[] } = {},
): [string, unknown][] {
  const out: [string, unknown][] = [];
  const before = JSON.stringify(valid);
  for (const p of paths(valid)) {
    if (o.skip?.some((s) => p === s || p.startsWith(`${s}.`))) continue;
    if (!o.optional?.includes(p)) out.push([`${p} missing`, mutate(valid, p, undefined)]);
    for (const [name, value] of WRONG_VALUES) {
      if (o.allowed?.[p]?.includes(name)) continue;
      const m = mutate(valid, p, value);
      if (JSON.stringify(m) !== before) out.push([`${p} = ${name}`, m]);
    }
  }
  return out;
}

/** An unknown member added to every object of `valid` (a misspelt or smuggled field must not pass silently). */
export function unknownMembers(valid: unknown): [string, unknown][] {
  return objectPaths(valid).map((p) => [
    `unknown member in ${p || 'top level'}`,
    p ? mutate(valid, `${p}.unexpectedField`, 'x') : { ...(valid as object), unexpectedField: 'x' },
  ]);
}
