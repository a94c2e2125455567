// TUF 1.0 metadata (theupdateframework/specification, tuf-spec.md; spec version 1.0.31): §4.2 "File formats:
// general principles" (the {signed, signatures} envelope, KEY, KEYID, date-time), §4.3 root.json, §4.4
// snapshot.json, §4.5 targets.json, §4.6 timestamp.json, §6.2 "Consistent snapshots" (VERSION.ROLE.json and
// HASH.TARGET file names), plus the names of the two targets Sigstore clients fetch (sigstore/root-signing).
//
// Signatures cover the canonical JSON of "signed", which TUF defines as OLPC canonical JSON. sigil encodes with
// RFC 8785 (the `canonicalize` package) and refuses to sign anything outside the subset where the two (and
// go-tuf's OLPC encoder) give the same bytes: integers only, no control characters or lone surrogates in
// strings (RFC 8785 escapes them, OLPC writes them raw), object keys inside the BMP (OLPC sorts keys by code
// point, RFC 8785 by UTF-16 unit; they disagree only above U+FFFF).
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** The spec version sigil writes; clients check only the major version (tuf-js, go-tuf). */
export const TUF_SPEC_VERSION = '1.0.31';

/** Target names cosign v3, sigstore-go and sigstore-js fetch from a Sigstore TUF repository. */
export const SIGSTORE_TRUSTED_ROOT_TARGET = 'trusted_root.json';
export const SIGSTORE_SIGNING_CONFIG_TARGET = 'signing_config.v0.2.json';

export type RoleName = 'root' | 'targets' | 'snapshot' | 'timestamp';

/** §4.2 KEY for the "ed25519" keytype: the 32-byte public key in hex. */
export interface TufKey {
  keytype: 'ed25519';
  scheme: 'ed25519';
  keyval: { public: string };
}

export interface RoleKeys {
  keyids: string[];
  threshold: number;
}

interface Common<T extends string> {
  _type: T;
  spec_version: string;
  version: number;
  /** §4.2 date-time, "YYYY-MM-DDTHH:MM:SSZ". */
  expires: string;
}

export interface RootSigned extends Common<'root'> {
  consistent_snapshot: boolean;
  keys: Record<string, TufKey>;
  roles: Record<RoleName, RoleKeys>;
}

/** §4.4 METAFILES entry. */
export interface MetaFile {
  version: number;
  length?: number;
  hashes?: Record<string, string>;
}

export interface TimestampSigned extends Common<'timestamp'> {
  meta: { 'snapshot.json': MetaFile };
}

export interface SnapshotSigned extends Common<'snapshot'> {
  meta: Record<string, MetaFile>;
}

/** §4.5 TARGETS entry. */
export interface TargetFile {
  length: number;
  hashes: Record<string, string>;
  custom?: Record<string, unknown>;
}

export interface TargetsSigned extends Common<'targets'> {
  targets: Record<string, TargetFile>;
}

export type Signed = RootSigned | TimestampSigned | SnapshotSigned | TargetsSigned;

export interface Signature {
  keyid: string;
  /** Hex-encoded signature over canonicalJson(signed). */
  sig: string;
}

export interface Metadata<T extends Signed = Signed> {
  signed: T;
  signatures: Signature[];
}

/** Why a value cannot be signed as TUF canonical JSON, or undefined when it can. */
function olpcProblem(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? undefined : `${path} is not an integer`;
  if (typeof value === 'string') return stringProblem(value, path);
  if (value === null || typeof value === 'boolean') return undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const p = olpcProblem(v, `${path}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (/[\uD800-\uDFFF]/.test(k)) return `${path} has a key outside the BMP`;
      const p = stringProblem(k, `${path} key`) ?? olpcProblem(v, `${path}.${k}`);
      if (p) return p;
    }
    return undefined;
  }
  return `${path} is a ${typeof value}`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function stringProblem(s: string, path: string): string | undefined {
  if (/[\u0000-\u001f]/.test(s)) return `${path} has a control character`;
  if (LONE_SURROGATE.test(s)) return `${path} has a lone surrogate`;
  return undefined;
}

/** The bytes a TUF signature covers: canonical JSON of `value` (see the header for the subset allowed). */
export function canonicalJson(value: unknown): Buffer {
  const problem = olpcProblem(value, 'signed');
  if (problem) throw new Error(`TUF canonical JSON: ${problem}`);
  const text = canonicalize(value);
  if (text === undefined) throw new Error('TUF canonical JSON: nothing to encode');
  return Buffer.from(text, 'utf8');
}

/** §4.2 KEYID: hex SHA-256 of the key's canonical JSON. */
export function tufKeyId(key: TufKey): string {
  return createHash('sha256').update(canonicalJson(key)).digest('hex');
}

/**
 * §4.2 date-time, whole seconds: go-tuf re-encodes the parsed time before checking a signature, and Go writes no
 * fraction for whole seconds, so "…:00.000Z" would no longer match what was signed.
 */
export function tufDateTime(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** §4.3-4.6 metadata file names with consistent snapshots (§6.2): timestamp.json alone has no version. */
export function metadataFileName(role: RoleName, version: number): string {
  return role === 'timestamp' ? 'timestamp.json' : `${version}.${role}.json`;
}

/** §6.2: a target file is stored as HASH.NAME in the target's directory (NAME may have a directory part). */
export function hashPrefixedTargetPath(name: string, sha256hex: string): string {
  const slash = name.lastIndexOf('/');
  return slash < 0 ? `${sha256hex}.${name}` : `${name.slice(0, slash)}/${sha256hex}.${name.slice(slash + 1)}`;
}

/** LENGTH and HASHES of a file (§4.4, §4.5); sha256 only, see docs/design/tuf.md. */
export function fileInfo(bytes: Uint8Array): { length: number; hashes: { sha256: string } } {
  return { length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('hex') } };
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * Parses a metadata file sigil wrote (or a copy of one) and checks the shape the rest of the code relies on:
 * the role type, the major spec version, a positive version and a date-time expiry. Signatures are not checked.
 */
export function parseMetadata<T extends Signed>(bytes: Uint8Array | string, type: T['_type']): Metadata<T> {
  const json = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8')) as unknown;
  const md = json as Metadata<T>;
  const where = `${type} metadata`;
  if (typeof md !== 'object' || md === null || typeof md.signed !== 'object' || !Array.isArray(md.signatures))
    throw new Error(`${where}: not a {signed, signatures} object`);
  const s = md.signed as Common<string>;
  if (s._type !== type) throw new Error(`${where}: _type is ${JSON.stringify(s._type)}`);
  if (typeof s.spec_version !== 'string' || s.spec_version.split('.')[0] !== '1')
    throw new Error(`${where}: unsupported spec_version ${JSON.stringify(s.spec_version)}`);
  if (!Number.isSafeInteger(s.version) || s.version < 1) throw new Error(`${where}: bad version`);
  if (typeof s.expires !== 'string' || !DATE_TIME.test(s.expires)) throw new Error(`${where}: bad expires`);
  return md;
}
