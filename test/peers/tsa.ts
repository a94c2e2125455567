// A minimal RFC 3161 timestamp authority for the peer tests, on loopback. sigil runs no TSA, and sigstore-go's
// conformance CLI (test/conformance/main.go signBundle) will not sign with a signing config that names none: it
// calls root.SelectServices on the config's tsaUrls unconditionally, and that fails on an empty list. This TSA
// lets the test reach sigil's CA and log through sigstore-go's signer all the same. It answers a TimeStampReq
// (RFC 3161 §2.4.1) with a granted TimeStampResp (§2.4.2) whose token is CMS SignedData (RFC 5652 §5) over a
// TSTInfo, signed with signed attributes by an ECDSA P-256 leaf whose only EKU is id-kp-timeStamping (critical,
// RFC 3161 §2.3), issued by a self-signed root. `authority` is the trusted root's timestampAuthorities entry.
// It leaves out the ESS signing-certificate attribute (RFC 3161 §2.4.2): neither sigstore-go nor sigil reads it.
import { createHash, webcrypto } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

pkijs.setEngine(
  'node',
  new pkijs.CryptoEngine({
    name: 'node',
    crypto: webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'],
  }),
);

const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
/** TSTInfo.policy is the TSA's own choice (RFC 3161 §2.4.2); any OID will do here. */
const POLICY = '1.3.6.1.4.1.57264.2';

export interface TestTsa {
  url: string;
  /** The trusted root's timestampAuthorities entry for this TSA (certChain leaf first). */
  authority: Record<string, unknown>;
  /** How many timestamps it has issued. */
  issued(): number;
  stop(): Promise<void>;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A critical extension (every one this TSA's certificates carry is, as RFC 3161 §2.3 asks of the EKU). */
function ext(extnID: string, value: asn1js.AsnType): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical: true, extnValue: value.toBER(false) });
}

function keyUsage(bits: number, unusedBits: number): asn1js.BitString {
  return new asn1js.BitString({ valueHex: new Uint8Array([bits]), unusedBits });
}

function setName(name: pkijs.RelativeDistinguishedNames, cn: string): void {
  name.typesAndValues.push(
    new pkijs.AttributeTypeAndValue({
      type: '2.5.4.10',
      value: new asn1js.Utf8String({ value: 'sigil tests' }),
    }),
    new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) }),
  );
}

async function certificate(
  serial: number,
  subject: string,
  issuer: string,
  notBefore: Date,
  notAfter: Date,
  publicKey: webcrypto.CryptoKey,
  signingKey: webcrypto.CryptoKey,
  extensions: pkijs.Extension[],
): Promise<pkijs.Certificate> {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ value: serial });
  setName(cert.subject, subject);
  setName(cert.issuer, issuer);
  cert.notBefore.value = notBefore;
  cert.notAfter.value = notAfter;
  cert.extensions = extensions;
  await cert.subjectPublicKeyInfo.importKey(publicKey);
  await cert.sign(signingKey, 'SHA-256');
  return cert;
}

export async function startTestTsa(): Promise<TestTsa> {
  const now = Date.now();
  const notBefore = new Date(now - 3600_000);
  const notAfter = new Date(now + 24 * 3600_000);
  const keyPair = () =>
    webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
  const [rootKeys, leafKeys] = await Promise.all([keyPair(), keyPair()]);
  const rootCn = 'test TSA root';
  const root = await certificate(
    2,
    rootCn,
    rootCn,
    notBefore,
    notAfter,
    rootKeys.publicKey,
    rootKeys.privateKey,
    [
      ext('2.5.29.19', new pkijs.BasicConstraints({ cA: true, pathLenConstraint: 0 }).toSchema()),
      ext('2.5.29.15', keyUsage(0x06, 1)), // keyCertSign, cRLSign
    ],
  );
  const leafCert = await certificate(
    3,
    'test TSA',
    rootCn,
    notBefore,
    notAfter,
    leafKeys.publicKey,
    rootKeys.privateKey,
    [
      ext('2.5.29.19', new pkijs.BasicConstraints({ cA: false }).toSchema()),
      ext('2.5.29.15', keyUsage(0x80, 7)), // digitalSignature
      ext('2.5.29.37', new pkijs.ExtKeyUsage({ keyPurposes: [OID_TIME_STAMPING] }).toSchema()),
    ],
  );
  let serial = 0;

  async function stamp(body: Buffer): Promise<Buffer> {
    const req = pkijs.TimeStampReq.fromBER(new Uint8Array(body));
    const tstInfo = new pkijs.TSTInfo({
      version: 1,
      policy: POLICY,
      messageImprint: req.messageImprint,
      serialNumber: new asn1js.Integer({ value: ++serial }),
      genTime: new Date(),
      ...(req.nonce ? { nonce: req.nonce } : {}),
    });
    const eContent = Buffer.from(tstInfo.toSchema().toBER());
    const encapContentInfo = new pkijs.EncapsulatedContentInfo({ eContentType: OID_TST_INFO });
    // Set after construction: pkijs's constructor turns eContent into a constructed (BER) OCTET STRING, and real
    // TSAs send DER, where eContent is primitive.
    encapContentInfo.eContent = new asn1js.OctetString({ valueHex: eContent });
    const signed = new pkijs.SignedData({
      version: 3,
      encapContentInfo,
      signerInfos: [
        new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({
            issuer: leafCert.issuer,
            serialNumber: leafCert.serialNumber,
          }),
          signedAttrs: new pkijs.SignedAndUnsignedAttributes({
            type: 0,
            attributes: [
              new pkijs.Attribute({
                type: OID_CONTENT_TYPE,
                values: [new asn1js.ObjectIdentifier({ value: OID_TST_INFO })],
              }),
              new pkijs.Attribute({
                type: OID_MESSAGE_DIGEST,
                values: [
                  new asn1js.OctetString({ valueHex: createHash('sha256').update(eContent).digest() }),
                ],
              }),
            ],
          }),
        }),
      ],
      // RFC 3161 §2.4.1: the TSA's certificate is in the token only when certReq asks for it.
      ...(req.certReq ? { certificates: [leafCert] } : {}),
    });
    await signed.sign(leafKeys.privateKey, 0, 'SHA-256');
    const resp = new pkijs.TimeStampResp({
      status: new pkijs.PKIStatusInfo({ status: pkijs.PKIStatus.granted }),
      timeStampToken: new pkijs.ContentInfo({ contentType: OID_SIGNED_DATA, content: signed.toSchema(true) }),
    });
    return Buffer.from(resp.toSchema().toBER());
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(400).end('POST an application/timestamp-query');
        return;
      }
      stamp(Buffer.concat(chunks)).then(
        (der) => res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(der),
        (err: Error) => res.writeHead(400).end(err.message),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/timestamp`;
  return {
    url,
    authority: {
      subject: { organization: 'sigil tests', commonName: 'test TSA' },
      uri: url,
      certChain: {
        certificates: [leafCert, root].map((c) => ({
          rawBytes: Buffer.from(c.toSchema().toBER()).toString('base64'),
        })),
      },
      validFor: { start: notBefore.toISOString() },
    },
    issued: () => serial,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
