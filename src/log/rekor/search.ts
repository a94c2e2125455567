// POST /api/v1/index/retrieve (Rekor v1 SearchIndex): by artifact hash, public key, email or SAN subject,
// combined with "or" (default) or "and". Each criterion becomes a search term (entry-types.ts `term`).
import { expectObject, expectString, FormatError } from '../../formats/index.js';
import { term } from './entry-types.js';
import { parseVerificationKey } from './keys.js';

const HASH =
  /^(?:(sha512):)?([0-9a-fA-F]{128})$|^(?:(sha256):)?([0-9a-fA-F]{64})$|^(?:(sha1):)?([0-9a-fA-F]{40})$/;

export function searchTerms(body: unknown): { terms: string[]; operator: 'and' | 'or' } {
  const q = expectObject(body, 'query');
  const terms: string[] = [];
  for (const k of Object.keys(q)) {
    if (!['hash', 'publicKey', 'email', 'subject', 'operator'].includes(k)) {
      throw new FormatError(`query has unexpected property "${k}"`);
    }
  }
  if (q.hash !== undefined) {
    const m = HASH.exec(expectString(q.hash, 'hash'));
    if (!m)
      throw new FormatError('hash must be a hex digest, optionally prefixed with sha256:, sha512: or sha1:');
    const hex = m[2] ?? m[4] ?? m[6];
    const alg = m[2] ? 'sha512' : m[4] ? 'sha256' : 'sha1';
    terms.push(term.artifact(alg, hex));
  }
  if (q.publicKey !== undefined) {
    const pk = expectObject(q.publicKey, 'publicKey');
    // Rekor's publicKey also has `url` (a key to fetch): this log fetches nothing on a client's behalf.
    for (const k of Object.keys(pk))
      if (k !== 'format' && k !== 'content')
        throw new FormatError(`publicKey has unexpected property "${k}" (it takes format and content)`);
    const format = expectString(pk.format, 'publicKey.format');
    if (format !== 'x509') {
      throw new FormatError(`publicKey.format "${format}" is not supported; this log stores x509 keys only`);
    }
    const content = expectString(pk.content, 'publicKey.content');
    const key = parseVerificationKey(Buffer.from(content, 'base64'));
    terms.push(term.key(key.canonicalPem));
  }
  if (q.email !== undefined) {
    const email = expectString(q.email, 'email');
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new FormatError('email is not an email address');
    terms.push(term.subject(email));
  }
  if (q.subject !== undefined) {
    const subject = expectString(q.subject, 'subject');
    if (subject.length < 1 || subject.length > 512)
      throw new FormatError('subject must be 1 to 512 characters');
    terms.push(term.subject(subject));
  }
  const operator = q.operator === undefined ? 'or' : expectString(q.operator, 'operator');
  if (operator !== 'and' && operator !== 'or') throw new FormatError('operator must be "and" or "or"');
  if (terms.length === 0)
    throw new FormatError('query needs at least one of hash, publicKey, email, subject');
  return { terms, operator };
}
