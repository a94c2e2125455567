// Test-only Sigstore instance in miniature: a CA (root + intermediate), a CT log and a Rekor-style log, all with
// fresh node:crypto keys, that issue Fulcio-shaped certificates with embedded SCTs and bundles with a SET, an
// inclusion proof and a signed checkpoint. Every piece can be bent to exercise one verifier rule at a time.
// Certificates are assembled by hand in DER so that broken ones (CA leaf, wrong EKU, ...) are easy to make.
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import canonicalize from 'canonicalize';
import { spkiDer } from '../../../src/crypto/index.js';
import { tlv as encodeTlv, preAuthEncoding } from '../../../src/formats/index.js';
import { buildTrustedRoot } from '../../../src/trust/index.js';
import { refPath, refRoot } from '../../merkle/reference.js';

export const ISSUER = 'https://token.actions.githubusercontent.com';
export const IDENTITY = 'https://github.com/octo/demo/.github/workflows/release.yml@refs/heads/main';
export const GITHUB = {
  '1.3.6.1.4.1.57264.1.2': 'push',
  '1.3.6.1.4.1.57264.1.3': '0123456789abcdef0123456789abcdef01234567',
  '1.3.6.1.4.1.57264.1.4': 'release',
  '1.3.6.1.4.1.57264.1.5': 'octo/demo',
  '1.3.6.1.4.1.57264.1.6': 'refs/heads/main',
};

// ---- DER building blocks -------------------------------------------------------------------------------------
export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const bytes: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return encodeTlv(0x06, Buffer.from(out));
}
const seq = (...items: Buffer[]) => encodeTlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => encodeTlv(0x31, Buffer.concat(items));
const int = (n: number) => encodeTlv(0x02, Buffer.from([n]));
const utf8 = (s: string) => encodeTlv(0x0c, Buffer.from(s));
const octet = (b: Buffer) => encodeTlv(0x04, b);
const bool = (v: boolean) => encodeTlv(0x01, Buffer.from([v ? 0xff : 0]));
function time(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return encodeTlv(0x17, Buffer.from(s));
}
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), utf8(cn))));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

export interface Ext {
  oid: string;
  critical?: boolean;
  value: Buffer;
}
export const ext = {
  basicConstraints: (ca: boolean, pathLen?: number): Ext => ({
    oid: '2.5.29.19',
    critical: true,
    value: seq(...(ca ? [bool(true)] : []), ...(pathLen === undefined ? [] : [int(pathLen)])),
  }),
  keyUsage: (): Ext => ({ oid: '2.5.29.15', critical: true, value: encodeTlv(0x03, Buffer.from([7, 0x80])) }),
  caKeyUsage: (): Ext => ({
    oid: '2.5.29.15',
    critical: true,
    value: encodeTlv(0x03, Buffer.from([1, 0x06])),
  }),
  eku: (...oids: string[]): Ext => ({ oid: '2.5.29.37', value: seq(...oids.map(oid)) }),
  sanUri: (uri: string): Ext => ({
    oid: '2.5.29.17',
    critical: true,
    value: seq(encodeTlv(0x86, Buffer.from(uri))),
  }),
  sanEmail: (email: string): Ext => ({
    oid: '2.5.29.17',
    critical: true,
    value: seq(encodeTlv(0x81, Buffer.from(email))),
  }),
  raw: (o: string, text: string): Ext => ({ oid: o, value: Buffer.from(text) }),
  utf8: (o: string, text: string): Ext => ({ oid: o, value: utf8(text) }),
};

function encodeExt(e: Ext): Buffer {
  return seq(oid(e.oid), ...(e.critical ? [bool(true)] : []), octet(e.value));
}

export interface CertSpec {
  serial: number;
  issuer: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: Ext[];
}

export function tbsCertificate(s: CertSpec): Buffer {
  return seq(
    encodeTlv(0xa0, int(2)),
    int(s.serial),
    ECDSA_SHA256,
    name(s.issuer),
    seq(time(s.notBefore), time(s.notAfter)),
    name(s.subject),
    spkiDer(s.publicKey),
    ...(s.extensions.length ? [encodeTlv(0xa3, seq(...s.extensions.map(encodeExt)))] : []),
  );
}

export function signCertificate(tbs: Buffer, issuerKey: KeyObject): Buffer {
  const sig = sign('sha256', tbs, issuerKey);
  return seq(tbs, ECDSA_SHA256, encodeTlv(0x03, Buffer.concat([Buffer.from([0]), sig])));
}

export function p256(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const keyId = (k: KeyObject) => sha256(spkiDer(k));

// ---- the instance ---------------------------------------------------------------------------------------------
export interface Pki {
  root: { cert: Buffer; key: KeyObject };
  intermediate: { cert: Buffer; key: KeyObject; publicKey: KeyObject };
  ct: { privateKey: KeyObject; publicKey: KeyObject };
  rekor: { privateKey: KeyObject; publicKey: KeyObject };
  origin: string;
}

export const T0 = new Date('2025-01-01T00:00:00Z');

export function makePki(interExtensions: Ext[] = [ext.basicConstraints(true, 0), ext.caKeyUsage()]): Pki {
  const root = p256();
  const inter = p256();
  const far = new Date('2035-01-01T00:00:00Z');
  const rootCert = signCertificate(
    tbsCertificate({
      serial: 1,
      issuer: 'sigil test root',
      subject: 'sigil test root',
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: far,
      publicKey: root.publicKey,
      extensions: [ext.basicConstraints(true, 1), ext.caKeyUsage()],
    }),
    root.privateKey,
  );
  const interCert = signCertificate(
    tbsCertificate({
      serial: 2,
      issuer: 'sigil test root',
      subject: 'sigil test intermediate',
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: far,
      publicKey: inter.publicKey,
      extensions: interExtensions,
    }),
    root.privateKey,
  );
  return {
    root: { cert: rootCert, key: root.privateKey },
    intermediate: { cert: interCert, key: inter.privateKey, publicKey: inter.publicKey },
    ct: p256(),
    rekor: p256(),
    origin: 'sigil.test - 42',
  };
}

export interface TrustOptions {
  caValidFrom?: Date;
  tlogValidFrom?: Date;
  ctValidFrom?: Date;
  rekorKey?: KeyObject;
  ctKey?: KeyObject;
}

export function trustedRoot(pki: Pki, o: TrustOptions = {}): Record<string, unknown> {
  return buildTrustedRoot({
    certificateAuthorities: [
      {
        baseUrl: 'http://ca.test',
        organization: 'sigil',
        commonName: 'test',
        chain: [pki.intermediate.cert, pki.root.cert],
        validFrom: o.caValidFrom ?? new Date('2024-01-01T00:00:00Z'),
      },
    ],
    tlogs: [
      {
        baseUrl: 'https://sigil.test',
        publicKey: o.rekorKey ?? pki.rekor.publicKey,
        validFrom: o.tlogValidFrom ?? new Date('2024-01-01T00:00:00Z'),
      },
    ],
    ctlogs: [
      {
        baseUrl: 'http://ct.test',
        publicKey: o.ctKey ?? pki.ct.publicKey,
        validFrom: o.ctValidFrom ?? new Date('2024-01-01T00:00:00Z'),
      },
    ],
  });
}

export interface LeafOptions {
  identity?: Ext | null;
  issuer?: string | null;
  extraExtensions?: Ext[];
  notBefore?: Date;
  notAfter?: Date;
  isCA?: boolean;
  eku?: string[];
  /** 'valid' (default), 'none', 'bad-signature', or 'unknown-log'. */
  sct?: 'valid' | 'none' | 'bad-signature' | 'unknown-log';
  issuerKey?: KeyObject;
}

/** A Fulcio-shaped leaf certificate: built as a precertificate, logged to the CT log, then issued with the SCT. */
export function makeLeaf(
  pki: Pki,
  o: LeafOptions = {},
): { der: Buffer; privateKey: KeyObject; publicKey: KeyObject } {
  const keys = p256();
  const extensions: Ext[] = [
    ext.keyUsage(),
    ext.eku(...(o.eku ?? ['1.3.6.1.5.5.7.3.3'])),
    ...(o.isCA ? [ext.basicConstraints(true)] : []),
    ...(o.identity === null ? [] : [o.identity ?? ext.sanUri(IDENTITY)]),
    ...(o.issuer === null
      ? []
      : [
          ext.raw('1.3.6.1.4.1.57264.1.1', o.issuer ?? ISSUER),
          ext.utf8('1.3.6.1.4.1.57264.1.8', o.issuer ?? ISSUER),
        ]),
    ...Object.entries(GITHUB).map(([k, v]) => ext.raw(k, v)),
    ...(o.extraExtensions ?? []),
  ];
  const spec: CertSpec = {
    serial: 77,
    issuer: 'sigil test intermediate',
    subject: '',
    notBefore: o.notBefore ?? T0,
    notAfter: o.notAfter ?? new Date(T0.getTime() + 10 * 60_000),
    publicKey: keys.publicKey,
    extensions,
  };
  const signer = o.issuerKey ?? pki.intermediate.key;
  if (o.sct !== 'none') {
    const precertTbs = tbsCertificate(spec);
    const ctKey = o.sct === 'unknown-log' ? p256() : pki.ct;
    spec.extensions = [
      ...extensions,
      {
        oid: '1.3.6.1.4.1.11129.2.4.2',
        value: octet(sctList(ctKey, pki, precertTbs, o.sct === 'bad-signature')),
      },
    ];
  }
  return { der: signCertificate(tbsCertificate(spec), signer), ...keys };
}

/** RFC 6962 §3.2/3.3: a one-SCT SignedCertificateTimestampList over the precertificate TBS. */
function sctList(
  ct: { privateKey: KeyObject; publicKey: KeyObject },
  pki: Pki,
  tbs: Buffer,
  corrupt: boolean,
): Buffer {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(T0.getTime()));
  const issuerKeyHash = sha256(spkiDer(pki.intermediate.publicKey));
  const tbsLen = Buffer.from([tbs.length >> 16, (tbs.length >> 8) & 0xff, tbs.length & 0xff]);
  const signed = Buffer.concat([
    Buffer.from([0, 0]),
    ts,
    Buffer.from([0, 1]),
    issuerKeyHash,
    tbsLen,
    tbs,
    Buffer.from([0, 0]),
  ]);
  const sig = sign('sha256', corrupt ? Buffer.concat([signed, Buffer.from([1])]) : signed, ct.privateKey);
  const sigLen = Buffer.alloc(2);
  sigLen.writeUInt16BE(sig.length);
  const sct = Buffer.concat([
    Buffer.from([0]),
    keyId(ct.publicKey),
    ts,
    Buffer.from([0, 0]),
    Buffer.from([4, 3]),
    sigLen,
    sig,
  ]);
  const withLen = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  return withLen(withLen(sct));
}

// ---- the log --------------------------------------------------------------------------------------------------
// RFC 6962 trees come from the naive reference shared with test/merkle, independent of src/merkle.
/** RFC 6962 §2.1 MTH. */
export function merkleRoot(leaves: Buffer[]): Buffer {
  return refRoot(leaves);
}
/** RFC 6962 §2.1.1 PATH(m, D[n]). */
export function auditPath(m: number, leaves: Buffer[]): Buffer[] {
  return refPath(m, leaves.length, leaves);
}

export function signCheckpoint(
  key: KeyObject,
  keyName: string,
  text: string,
  hintKey: KeyObject = key,
): string {
  const hint = keyId(hintKey).subarray(0, 4);
  const sig = sign('sha256', Buffer.from(text), key);
  return `${text}\n\u2014 ${keyName} ${Buffer.concat([hint, sig]).toString('base64')}\n`;
}

export interface BundleOptions {
  version?: '0.1' | '0.3';
  dsse?: { payloadType: string; payload: Buffer };
  integratedTime?: Date;
  /** Sign the SET / checkpoint with this key instead of the log's. */
  setKey?: KeyObject;
  checkpointKey?: KeyObject;
  /** Log the entry body for these bytes instead (an entry that does not match the bundle). */
  bodyOverride?: Record<string, unknown>;
  corruptPath?: boolean;
  checkpointRoot?: Buffer;
  noSet?: boolean;
  publicKeyOnly?: boolean;
  signWith?: KeyObject;
}

/** Signs `artifact` with the leaf and logs it, returning bundle JSON (hashedrekord, or dsse when o.dsse). */
export function makeBundle(
  pki: Pki,
  leaf: { der: Buffer; privateKey: KeyObject; publicKey: KeyObject },
  artifact: Buffer,
  o: BundleOptions = {},
  // biome-ignore lint/suspicious/noExplicitAny: bundle JSON edited freely by the test
): Record<string, any> {
  const signingKey = o.signWith ?? leaf.privateKey;
  const pem = o.publicKeyOnly
    ? leaf.publicKey.export({ type: 'spki', format: 'pem' }).toString()
    : `-----BEGIN CERTIFICATE-----\n${leaf.der.toString('base64')}\n-----END CERTIFICATE-----\n`;
  let content: Record<string, unknown>;
  let body: Record<string, unknown>;
  if (o.dsse) {
    const sig = sign('sha256', preAuthEncoding(o.dsse.payloadType, o.dsse.payload), signingKey);
    content = {
      dsseEnvelope: {
        payload: o.dsse.payload.toString('base64'),
        payloadType: o.dsse.payloadType,
        signatures: [{ sig: sig.toString('base64'), keyid: '' }],
      },
    };
    body = {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: sha256(Buffer.from('envelope')).toString('hex') },
        payloadHash: { algorithm: 'sha256', value: sha256(o.dsse.payload).toString('hex') },
        signatures: [{ signature: sig.toString('base64'), verifier: Buffer.from(pem).toString('base64') }],
      },
    };
  } else {
    const sig = sign('sha256', artifact, signingKey);
    const digest = sha256(artifact);
    content = {
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
        signature: sig.toString('base64'),
      },
    };
    body = {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
        signature: {
          content: sig.toString('base64'),
          publicKey: { content: Buffer.from(pem).toString('base64') },
        },
      },
    };
  }
  const bodyBytes = Buffer.from(canonicalize(o.bodyOverride ?? body)!);
  const logId = keyId(pki.rekor.publicKey);
  const integratedTime = Math.floor((o.integratedTime ?? new Date(T0.getTime() + 60_000)).getTime() / 1000);
  const leaves = [
    Buffer.from('a'),
    Buffer.from('b'),
    Buffer.from('c'),
    bodyBytes,
    Buffer.from('e'),
    Buffer.from('f'),
  ];
  const index = 3;
  const root = merkleRoot(leaves);
  const path = auditPath(index, leaves);
  if (o.corruptPath) path[1] = sha256(Buffer.from('not a node'));
  const set = sign(
    'sha256',
    Buffer.from(
      canonicalize({
        body: bodyBytes.toString('base64'),
        integratedTime,
        logID: logId.toString('hex'),
        logIndex: 1003,
      })!,
    ),
    o.setKey ?? pki.rekor.privateKey,
  );
  const cpText = `${pki.origin}\n${leaves.length}\n${(o.checkpointRoot ?? root).toString('base64')}\n`;
  const checkpoint = signCheckpoint(
    o.checkpointKey ?? pki.rekor.privateKey,
    'sigil.test',
    cpText,
    pki.rekor.publicKey,
  );
  const version = o.version ?? '0.3';
  return {
    mediaType:
      version === '0.3'
        ? 'application/vnd.dev.sigstore.bundle.v0.3+json'
        : 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      ...(o.publicKeyOnly
        ? { publicKey: { hint: '' } }
        : version === '0.3'
          ? { certificate: { rawBytes: leaf.der.toString('base64') } }
          : { x509CertificateChain: { certificates: [{ rawBytes: leaf.der.toString('base64') }] } }),
      tlogEntries: [
        {
          logIndex: '1003',
          logId: { keyId: logId.toString('base64') },
          kindVersion: { kind: (o.bodyOverride ?? body).kind, version: (o.bodyOverride ?? body).apiVersion },
          integratedTime: String(integratedTime),
          ...(o.noSet ? {} : { inclusionPromise: { signedEntryTimestamp: set.toString('base64') } }),
          inclusionProof: {
            logIndex: String(index),
            rootHash: root.toString('base64'),
            treeSize: String(leaves.length),
            hashes: path.map((h) => h.toString('base64')),
            checkpoint: { envelope: checkpoint },
          },
          canonicalizedBody: bodyBytes.toString('base64'),
        },
      ],
    },
    ...content,
  };
}
