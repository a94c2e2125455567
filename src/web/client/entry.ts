// Reads a Rekor v1 entry body (base64 canonical JSON {kind, apiVersion, spec}) for display: the kind's summary
// fields (hashedrekord: artifact digest and signature; dsse: envelope and payload hashes; intoto: payload type and
// hashes) and every certificate or public key the body carries, found wherever a string decodes to PEM. Everything
// here is data from the log: the page renders it as text only.
import { fromBase64, fromUtf8, pemBlocks } from './bytes.js';
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

/** Strings in the JSON that are base64 of PEM text, with their paths. */
function findPem(v: unknown, path: string, out: { path: string; text: string }[]): void {
  if (typeof v === 'string') {
    if (v.length < 64 || !/^[A-Za-z0-9+/=]+$/.test(v)) return;
    try {
      const text = fromUtf8(fromBase64(v));
      if (text.includes('-----BEGIN ')) out.push({ path, text });
    } catch {
      // not base64 after all
    }
  } else if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) findPem(x, `${path}[${i}]`, out);
  } else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) findPem(x, path ? `${path}.${k}` : k, out);
}

export function keyMaterial(json: unknown): KeyMaterial[] {
  const found: { path: string; text: string }[] = [];
  findPem(json, '', found);
  const out: KeyMaterial[] = [];
  for (const f of found)
    for (const block of pemBlocks(f.text)) {
      const pem = `-----BEGIN ${block.label}-----\n…\n-----END ${block.label}-----`;
      if (block.label !== 'CERTIFICATE') {
        out.push({ path: f.path, pem: f.text.trim() });
        continue;
      }
      try {
        out.push({ path: f.path, pem: f.text.trim(), certificate: decodeCertificate(block.der) });
      } catch (err) {
        out.push({ path: f.path, pem, error: (err as Error).message });
      }
    }
  return out;
}

function summary(kind: string, spec: Obj): [string, string][] {
  const rows: [string, string | undefined][] = [];
  if (kind === 'hashedrekord') {
    rows.push(['Artifact digest', hashText(obj(spec.data).hash)]);
    rows.push(['Signature', str(obj(spec.signature).content)]);
  } else if (kind === 'dsse') {
    rows.push(['Envelope hash', hashText(spec.envelopeHash)]);
    rows.push(['Payload hash', hashText(spec.payloadHash)]);
    const sigs = Array.isArray(spec.signatures) ? spec.signatures : [];
    sigs.forEach((s, i) => {
      rows.push([`Signature ${i + 1}`, str(obj(s).signature)]);
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

/** Decodes the base64 body; throws when it is not JSON. */
export function decodeBody(body: string): DecodedBody {
  const json = JSON.parse(fromUtf8(fromBase64(body))) as unknown;
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
