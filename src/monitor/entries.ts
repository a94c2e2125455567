// What the monitor reads out of a log's entries: C2SP tlog-tiles entry bundles (each entry a big-endian uint16
// length then its bytes) split into entries, and the signers' identities in each entry — the subject alternative
// names and Fulcio OIDC issuer of every certificate it carries, wherever it is: base64 PEM in a Rekor v1 body
// (hashedrekord, dsse, intoto) or base64 DER in a Rekor v2 entry (x509Certificate.rawBytes).
import { isAscii } from 'node:buffer';
import { FULCIO_OID, fulcioExtensionText, parseCertificate, pemToDer } from '../formats/index.js';

/** The entries of one entry bundle, in order; throws when a length runs past the end. */
export function splitEntryBundle(bundle: Uint8Array): Buffer[] {
  const buf = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 2 > buf.length) throw new Error('entry bundle ends inside a length prefix');
    const len = buf.readUInt16BE(at);
    if (at + 2 + len > buf.length) throw new Error('entry bundle ends inside an entry');
    out.push(buf.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}

export interface SignerIdentity {
  /** Subject alternative names (email, URI, …) as text. */
  sans: string[];
  /** Fulcio's OIDC issuer extension (V2, else V1), when present. */
  issuer?: string;
  /** Fulcio's extensions by OID, as text, for --oid matching. */
  extensions: Record<string, string>;
}

const BASE64 = /^[A-Za-z0-9+/]{100,}={0,2}$/;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MIN_BASE64 = 100;
const PEM_BEGIN = '-----BEGIN CERTIFICATE-----';
const PEM_END = '-----END CERTIFICATE-----';

/** Called with each candidate certificate's DER; the bytes may be reused once it returns. */
type Visit = (der: Buffer) => void;

/**
 * Scratch space the fast path decodes base64 into (Buffer#write decodes as Buffer.from does), one for the JSON
 * string and one for a PEM body inside it: a fresh Buffer for each would be most of the garbage the monitor makes.
 */
const scratch = { outer: Buffer.allocUnsafe(8192), inner: Buffer.allocUnsafe(8192) };

function decodeInto(which: 'outer' | 'inner', base64: string): Buffer {
  // Decoding never yields more than 3 bytes for 4 characters.
  const need = Math.ceil((base64.length * 3) / 4);
  if (scratch[which].length < need) scratch[which] = Buffer.allocUnsafe(2 * need);
  return scratch[which].subarray(0, scratch[which].write(base64, 'base64'));
}

/** The DER certificates in a decoded base64 string: itself when it is DER, the CERTIFICATE blocks of a PEM text. */
function certificatesIn(bytes: Buffer, visit: Visit): void {
  if (bytes[0] === 0x30) visit(bytes);
  else if (bytes.subarray(0, 11).toString('latin1') === '-----BEGIN ') {
    if (isAscii(bytes)) pemBlocks(bytes.toString('latin1'), visit);
    // Not ASCII: the general reader (its UTF-8 decoding decides what the blocks are).
    else for (const der of pemToDer(bytes.toString('utf8'))) visit(der);
  }
}

/**
 * The CERTIFICATE blocks of an ASCII PEM text, as pemToDer reads them (each BEGIN to the next END) but without its
 * regular expressions: Node's base64 decoder skips every character outside the alphabet, whitespace included
 * (Buffer docs), so decoding the body as it stands gives the bytes pemToDer gets after stripping whitespace.
 */
function pemBlocks(text: string, visit: Visit): void {
  let at = text.indexOf(PEM_BEGIN);
  while (at >= 0) {
    const body = at + PEM_BEGIN.length;
    const end = text.indexOf(PEM_END, body);
    if (end < 0) return;
    visit(decodeInto('inner', text.slice(body, end)));
    at = text.indexOf(PEM_BEGIN, end + PEM_END.length);
  }
}

/** Every JSON string value (not keys: as Object.values sees them), the base64 certificates among them decoded. */
function walk(v: unknown, visit: Visit): void {
  if (typeof v === 'string') {
    if (BASE64.test(v)) certificatesIn(Buffer.from(v, 'base64'), visit);
  } else if (Array.isArray(v)) for (const x of v) walk(x, visit);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) walk(x, visit);
}

/**
 * Visits the certificates an entry (JSON, v1 or v2) may carry, as DER: every string that is base64 of DER or of a
 * PEM text, decoded. An entry without a backslash has no JSON escapes, so each of its strings is the bytes between
 * two quotes as they stand: those runs are decoded without parsing the JSON (every run of 100 bytes or more between
 * two quotes, keys and garbage included — more candidates than the parser finds, never fewer). With a backslash,
 * the JSON is parsed and walked. Candidates need not be certificates; parseCertificate decides.
 */
function visitCandidates(entry: Uint8Array, visit: Visit): void {
  const buf = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength);
  if (buf.indexOf(BACKSLASH) >= 0) {
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      return;
    }
    walk(json, visit);
    return;
  }
  let open = buf.indexOf(QUOTE);
  while (open >= 0) {
    const close = buf.indexOf(QUOTE, open + 1);
    if (close < 0) break;
    if (close - open - 1 >= MIN_BASE64)
      certificatesIn(decodeInto('outer', buf.toString('latin1', open + 1, close)), visit);
    open = buf.indexOf(QUOTE, close + 1);
  }
}

/** The candidate certificates of an entry (visitCandidates), each a copy of its own. */
export function certificateCandidates(entry: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  visitCandidates(entry, (der) => out.push(Buffer.from(der)));
  return out;
}

/**
 * Byte strings a certificate's DER must contain to match a rule: a list of requirements, each met when any one of
 * its alternatives occurs. Sound by construction of the parser's text: an email, DNS or URI SAN is its DER bytes
 * read as Latin-1, an otherName SAN and every Fulcio extension (raw bytes or a UTF8String) are read as UTF-8, so a
 * SAN equal to the identity holds the identity's Latin-1 or UTF-8 bytes, and an issuer or extension equal to a value
 * holds its UTF-8 bytes. A value that UTF-8 decoding could produce from other bytes (it holds U+FFFD, or a lone
 * surrogate that does not round-trip) gives no requirement. A regular expression gives none either: only the
 * exact identity, issuer and extension values are searched for.
 */
export type Prefilter = Buffer[][];

function utf8Needle(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'utf8');
  return text.includes('\uFFFD') || bytes.toString('utf8') !== text ? undefined : bytes;
}

export function prefilterFor(rule: IdentityRule): Prefilter {
  const reqs: Prefilter = [];
  const add = (alternatives: (Buffer | undefined)[]) => {
    // One alternative that cannot be searched for makes the requirement unusable (it could be met unseen).
    if (alternatives.every((a): a is Buffer => a !== undefined)) reqs.push(alternatives);
  };
  if (rule.identity !== undefined && rule.identityRegexp === undefined) {
    const latin1 = [...rule.identity].every((c) => (c.codePointAt(0) as number) <= 0xff);
    add(
      latin1
        ? [utf8Needle(rule.identity), Buffer.from(rule.identity, 'latin1')]
        : [utf8Needle(rule.identity)],
    );
  }
  if (rule.issuer !== undefined) add([utf8Needle(rule.issuer)]);
  for (const value of Object.values(rule.oids ?? {})) add([utf8Needle(value)]);
  return reqs;
}

/** Whether a certificate's DER holds every requirement's bytes: false means it cannot match the rule. */
export function mayMatch(der: Buffer, prefilter: Prefilter): boolean {
  return prefilter.every((alternatives) => alternatives.some((needle) => der.includes(needle)));
}

const FULCIO_ARC = '1.3.6.1.4.1.57264.1.';

export function identityOf(der: Buffer): SignerIdentity | undefined {
  try {
    const cert = parseCertificate(der);
    const extensions: Record<string, string> = {};
    for (const e of cert.extensions)
      if (e.oid.startsWith(FULCIO_ARC)) extensions[e.oid] = fulcioExtensionText(cert, e.oid) ?? '';
    return {
      sans: cert.subjectAltNames.map((n) => n.value),
      issuer: extensions[FULCIO_OID.issuerV2] ?? extensions[FULCIO_OID.issuerV1],
      extensions,
    };
  } catch {
    // not a certificate after all (a key, or bytes the strict parser refuses)
    return undefined;
  }
}

/**
 * The identities of the certificates in an entry (JSON, v1 or v2); none for key-signed or unreadable entries.
 * With a prefilter, only certificates that may match it are parsed (the others could not match anyway): the
 * monitor's fast path, as parsing is most of the cost of an entry.
 */
export function entryIdentities(entry: Uint8Array, prefilter?: Prefilter): SignerIdentity[] {
  const out: SignerIdentity[] = [];
  visitCandidates(entry, (der) => {
    if (prefilter && !mayMatch(der, prefilter)) return;
    // identityOf keeps only text, nothing of the scratch bytes it reads.
    const id = identityOf(der);
    if (id) out.push(id);
  });
  return out;
}

export interface IdentityRule {
  /** Exact SAN, or a regular expression over the whole SAN. */
  identity?: string;
  identityRegexp?: RegExp;
  /** Exact OIDC issuer; any issuer when unset. */
  issuer?: string;
  /** Fulcio extensions that must have these exact values, by OID. */
  oids?: Record<string, string>;
}

/** The SAN an identity matches the rule by, or undefined. */
export function matchIdentity(id: SignerIdentity, rule: IdentityRule): string | undefined {
  if (rule.issuer !== undefined && id.issuer !== rule.issuer) return undefined;
  for (const [oid, value] of Object.entries(rule.oids ?? {}))
    if (id.extensions[oid] !== value) return undefined;
  return id.sans.find(
    (san) =>
      (rule.identity !== undefined && san === rule.identity) || (rule.identityRegexp?.test(san) ?? false),
  );
}
