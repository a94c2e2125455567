// What the monitor reads out of a log's entries: C2SP tlog-tiles entry bundles (each entry a big-endian uint16
// length then its bytes) split into entries, and the signers' identities in each entry — the subject alternative
// names and Fulcio OIDC issuer of every certificate it carries, wherever it is: base64 PEM in a Rekor v1 body
// (hashedrekord, dsse, intoto) or base64 DER in a Rekor v2 entry (x509Certificate.rawBytes).
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

function certificatesIn(s: string, out: Buffer[]): void {
  if (!BASE64.test(s)) return;
  const bytes = Buffer.from(s, 'base64');
  if (bytes[0] === 0x30) out.push(bytes);
  else if (bytes.subarray(0, 11).toString() === '-----BEGIN ') {
    try {
      out.push(...pemToDer(bytes.toString('utf8')));
    } catch {
      // a PEM public key, not a certificate
    }
  }
}

function walk(v: unknown, out: Buffer[]): void {
  if (typeof v === 'string') certificatesIn(v, out);
  else if (Array.isArray(v)) for (const x of v) walk(x, out);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) walk(x, out);
}

const FULCIO_ARC = '1.3.6.1.4.1.57264.1.';

/** The identities of every certificate in an entry (JSON, v1 or v2); none for key-signed or unreadable entries. */
export function entryIdentities(entry: Uint8Array): SignerIdentity[] {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength).toString('utf8'));
  } catch {
    return [];
  }
  const ders: Buffer[] = [];
  walk(json, ders);
  const out: SignerIdentity[] = [];
  for (const der of ders) {
    try {
      const cert = parseCertificate(der);
      const extensions: Record<string, string> = {};
      for (const e of cert.extensions)
        if (e.oid.startsWith(FULCIO_ARC)) extensions[e.oid] = fulcioExtensionText(cert, e.oid) ?? '';
      out.push({
        sans: cert.subjectAltNames.map((n) => n.value),
        issuer: extensions[FULCIO_OID.issuerV2] ?? extensions[FULCIO_OID.issuerV1],
        extensions,
      });
    } catch {
      // not a certificate after all (a key, or bytes the strict parser refuses)
    }
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
