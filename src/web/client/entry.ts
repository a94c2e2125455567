// Reads a log entry for display — a Rekor v1 body (base64 canonical JSON {kind, apiVersion, spec}) or a Rekor v2
// leaf (the same JSON shape, spec.hashedRekordV002 / spec.dsseV002): the kind's summary fields (artifact digest and
// signature; envelope and payload hashes; payload type) and every certificate or public key the entry carries,
// found wherever a string decodes to PEM (v1) or a rawBytes field holds DER (v2). Everything here is data from the
// log: the page renders it as text only.
import { fromBase64, fromUtf8, pemBlocks, toBase64, toHex } from './bytes.js';
import { type CertificateInfo, decodeCertificate } from './x509.js';

export interface KeyMaterial {
  /** Where in the body it was, e.g. "spec.signature.publicKey.content". */
  path: string;
  pem: string;
  certificate?: CertificateInfo;
  /** Set when the block could not be decoded. */
  error?: string;
}

export interface DecodedBody {
  kind: string;
  apiVersion: string;
  /** Labelled values to show first. */
  summary: [string, string][];
  keys: KeyMaterial[];
  /** The whole body, parsed. */
  json: unknown;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const hashText = (h: unknown) => {
  const o = obj(h);
  return str(o.value) ? `${str(o.algorithm) ?? '?'}:${str(o.value)}` : undefined;
};

/** Strings in the JSON that are base64 of PEM text (Rekor v1), or of DER in a `rawBytes` field (Rekor v2). */
function findPem(v: unknown, path: string, out: { path: string; text?: string; der?: Uint8Array }[]): void {
  if (typeof v === 'string') {
    if (v.length < 64 || !/^[A-Za-z0-9+/=]+$/.test(v)) return;
    try {
      const bytes = fromBase64(v);
      if (path.endsWith('rawBytes') && bytes[0] === 0x30) {
        out.push({ path, der: bytes });
        return;
      }
      const text = fromUtf8(bytes);
      if (text.includes('-----BEGIN ')) out.push({ path, text });
    } catch {
      // not base64 after all
    }
  } else if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) findPem(x, `${path}[${i}]`, out);
  } else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) findPem(x, path ? `${path}.${k}` : k, out);
}

/** A DER blob from a v2 entry: a certificate when it reads as one, else a public key shown as PEM. */
function derMaterial(path: string, der: Uint8Array): KeyMaterial {
  const pem = (label: string) =>
    `-----BEGIN ${label}-----\n${(toBase64(der).match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----`;
  if (path.endsWith('x509Certificate.rawBytes'))
    try {
      return { path, pem: pem('CERTIFICATE'), certificate: decodeCertificate(der) };
    } catch (err) {
      return { path, pem: pem('CERTIFICATE'), error: (err as Error).message };
    }
  return { path, pem: pem('PUBLIC KEY') };
}

export function keyMaterial(json: unknown): KeyMaterial[] {
  const found: { path: string; text?: string; der?: Uint8Array }[] = [];
  findPem(json, '', found);
  const out: KeyMaterial[] = [];
  for (const f of found) {
    if (f.der) {
      out.push(derMaterial(f.path, f.der));
      continue;
    }
    const text = f.text ?? '';
    for (const block of pemBlocks(text)) {
      const pem = `-----BEGIN ${block.label}-----\n…\n-----END ${block.label}-----`;
      if (block.label !== 'CERTIFICATE') {
        out.push({ path: f.path, pem: text.trim() });
        continue;
      }
      try {
        out.push({ path: f.path, pem: text.trim(), certificate: decodeCertificate(block.der) });
      } catch (err) {
        out.push({ path: f.path, pem, error: (err as Error).message });
      }
    }
  }
  return out;
}

function summary(kind: string, spec: Obj): [string, string][] {
  const rows: [string, string | undefined][] = [];
  if (kind === 'hashedrekord' && !spec.hashedRekordV002) {
    rows.push(['Artifact digest', hashText(obj(spec.data).hash)]);
    rows.push(['Signature', str(obj(spec.signature).content)]);
  } else if (kind === 'dsse' && !spec.dsseV002) {
    rows.push(['Envelope hash', hashText(spec.envelopeHash)]);
    rows.push(['Payload hash', hashText(spec.payloadHash)]);
    const sigs = Array.isArray(spec.signatures) ? spec.signatures : [];
    sigs.forEach((s, i) => {
      rows.push([`Signature ${i + 1}`, str(obj(s).signature)]);
    });
  } else if (obj(spec.hashedRekordV002).data) {
    // Rekor v2 (rekor-tiles entry.proto): digests are base64, algorithms protobuf-specs names.
    const v = obj(spec.hashedRekordV002);
    rows.push(['Artifact digest', v2Hash(v.data)]);
    rows.push(['Signature', str(obj(v.signature).content)]);
  } else if (obj(spec.dsseV002).payloadHash) {
    const v = obj(spec.dsseV002);
    rows.push(['Payload hash', v2Hash(v.payloadHash)]);
    const sigs = Array.isArray(v.signatures) ? v.signatures : [];
    sigs.forEach((s, i) => {
      rows.push([`Signature ${i + 1}`, str(obj(s).content)]);
    });
  } else if (kind === 'intoto') {
    const content = obj(spec.content);
    const envelope = obj(content.envelope);
    rows.push(['Payload type', str(envelope.payloadType)]);
    rows.push(['Envelope hash', hashText(content.hash)]);
    rows.push(['Payload hash', hashText(content.payloadHash)]);
    const sigs = Array.isArray(envelope.signatures) ? envelope.signatures : [];
    sigs.forEach((s, i) => {
      rows.push([`Signature ${i + 1}`, str(obj(s).sig)]);
    });
  }
  return rows.filter((r): r is [string, string] => r[1] !== undefined);
}

/** A v2 hash {algorithm: "SHA2_256", digest: base64} as algorithm:hex. */
function v2Hash(h: unknown): string | undefined {
  const o = obj(h);
  const digest = str(o.digest);
  if (!digest) return undefined;
  try {
    return `${(str(o.algorithm) ?? '?').toLowerCase().replace('sha2_', 'sha')}:${toHex(fromBase64(digest))}`;
  } catch {
    return digest;
  }
}

/** Decodes the base64 body (Rekor v1); throws when it is not JSON. */
export function decodeBody(body: string): DecodedBody {
  return decodeEntry(fromBase64(body));
}

/** Decodes an entry's bytes (a Rekor v1 body decoded, or a Rekor v2 leaf); throws when they are not JSON. */
export function decodeEntry(bytes: Uint8Array): DecodedBody {
  const json = JSON.parse(fromUtf8(bytes)) as unknown;
  const o = obj(json);
  const kind = str(o.kind) ?? '(no kind)';
  return {
    kind,
    apiVersion: str(o.apiVersion) ?? '(no apiVersion)',
    summary: summary(kind, obj(o.spec)),
    keys: keyMaterial(json),
    json,
  };
}

/** The certificate's identity line: its SANs and OIDC issuer, for result lists. */
export function identityOf(d: DecodedBody): { san: string; issuer: string } {
  const cert = d.keys.find((k) => k.certificate)?.certificate;
  if (!cert) return { san: '(public key)', issuer: '' };
  return { san: cert.subjectAltNames.map((s) => s.value).join(', '), issuer: cert.oidcIssuer ?? '' };
}
