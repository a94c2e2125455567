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

/** The DER certificates in a decoded base64 string: itself when it is DER, the CERTIFICATE blocks of a PEM text. */
function certificatesIn(bytes: Buffer, out: Buffer[]): void {
  if (bytes[0] === 0x30) out.push(bytes);
  else if (bytes.subarray(0, 11).toString('latin1') === '-----BEGIN ') {
    if (isAscii(bytes)) pemBlocks(bytes.toString('latin1'), out);
    // Not ASCII: the general reader (its UTF-8 decoding decides what the blocks are).
    else out.push(...pemToDer(bytes.toString('utf8')));
  }
}

/**
 * The CERTIFICATE blocks of an ASCII PEM text, as pemToDer reads them (each BEGIN to the next END) but without its
 * regular expressions: Node's base64 decoder skips every character outside the alphabet, whitespace included
 * (Buffer docs), so decoding the body as it stands gives the bytes pemToDer gets after stripping whitespace.
 */
function pemBlocks(text: string, out: Buffer[]): void {
  let at = text.indexOf(PEM_BEGIN);
  while (at >= 0) {
    const body = at + PEM_BEGIN.length;
    const end = text.indexOf(PEM_END, body);
    if (end < 0) return;
    out.push(Buffer.from(text.slice(body, end), 'base64'));
    at = text.indexOf(PEM_BEGIN, end + PEM_END.length);
  }
}

/** Every JSON string value (not keys: as Object.values sees them), the base64 certificates among them decoded. */
function walk(v: unknown, out: Buffer[]): void {
  if (typeof v === 'string') {
    if (BASE64.test(v)) certificatesIn(Buffer.from(v, 'base64'), out);
  } else if (Array.isArray(v)) for (const x of v) walk(x, out);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) walk(x, out);
}

/**
 * The certificates an entry (JSON, v1 or v2) may carry, as DER: every string that is base64 of DER or of a PEM
 * text, decoded. An entry without a backslash has no JSON escapes, so each of its strings is the bytes between two
 * quotes as they stand: those runs are decoded without parsing the JSON (every run of 100 bytes or more between
 * two quotes, keys and garbage included — more candidates than the parser finds, never fewer). With a backslash,
 * the JSON is parsed and walked. Candidates need not be certificates; parseCertificate decides.
 */
export function certificateCandidates(entry: Uint8Array): Buffer[] {
  const buf = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength);
  const out: Buffer[] = [];
  if (buf.indexOf(BACKSLASH) >= 0) {
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      return out;
    }
    walk(json, out);
    return out;
  }
  let open = buf.indexOf(QUOTE);
  while (open >= 0) {
    const close = buf.indexOf(QUOTE, open + 1);
    if (close < 0) break;
    if (close - open - 1 >= MIN_BASE64) {
      try {
        certificatesIn(Buffer.from(buf.toString('latin1', open + 1, close), 'base64'), out);
      } catch {
        // a PEM text pemToDer refuses: no certificate
      }
    }
    open = buf.indexOf(QUOTE, close + 1);
  }
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
  for (const der of certificateCandidates(entry)) {
    if (prefilter && !mayMatch(der, prefilter)) continue;
    const id = identityOf(der);
    if (id) out.push(id);
  }
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
