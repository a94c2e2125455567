// Certificate and key parsing, sigil's own DER code against the libraries it already depends on (@peculiar/x509,
// pkijs over asn1js) and node:crypto's X509Certificate (OpenSSL). Each parser reads a public-good Fulcio leaf
// (test/fixtures/conformance happy-path-v0.3) far enough to give what sigil uses: the SubjectPublicKeyInfo, the
// subject alternative names and the extensions. Then the Rekor log's hot path, parseVerificationKey (PEM →
// key + searchable subjects, once per proposed entry in a validation worker), for a P-256 public key and for
// the Fulcio certificate, against the same read through the libraries. Prints one JSON line per case with the
// µs of CPU per parse (process.cpuUsage, best of 3 rounds).
//   node --import tsx bench/formats/x509.ts [iterations=100000]
import { generateKeyPairSync, X509Certificate as NodeX509 } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import { parseCertificate, toPem } from '../../src/formats/index.js';
import { parseVerificationKey } from '../../src/log/rekor/keys.js';

// @peculiar/x509 registers its providers through tsyringe, which wants the reflect-metadata API (not installed):
// a minimal metadata store stands in for it.
const store = new WeakMap<object, Map<unknown, unknown>>();
const own = (t: object) => store.get(t) ?? store.set(t, new Map()).get(t)!;
Object.assign(Reflect, {
  defineMetadata: (k: unknown, v: unknown, t: object) => own(t).set(k, v),
  getOwnMetadata: (k: unknown, t: object) => store.get(t)?.get(k),
  getMetadata: (k: unknown, t: object) => store.get(t)?.get(k),
  metadata: (k: unknown, v: unknown) => (t: object) => own(t).set(k, v),
});
const peculiar = await import('@peculiar/x509');

const N = Number(process.argv[2] ?? 100_000);
const bundle = JSON.parse(
  readFileSync(
    join(
      import.meta.dirname,
      '../../test/fixtures/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json',
    ),
    'utf8',
  ),
);
const leafDer = Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64');
const leafPem = Buffer.from(toPem(leafDer));
const keyPem = Buffer.from(
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
);
const keyDer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
  type: 'spki',
  format: 'der',
});
const arrayBuffer = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
const SAN = '2.5.29.17';
let sink = 0;

function measure(name: string, n: number, fn: () => unknown): void {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(); // warm-up
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) if (fn()) sink++;
    const t = process.cpuUsage(t0);
    best = Math.min(best, (t.user + t.system) / n);
  }
  console.log(JSON.stringify({ case: name, iterations: n, cpuMicrosPerOp: Number(best.toFixed(2)) }));
}

// The whole certificate, read to what sigil uses.
measure('leaf: sigil parseCertificate', N, () => {
  const c = parseCertificate(leafDer);
  return c.spki.length + c.subjectAltNames.length + c.extensions.length;
});
measure('leaf: @peculiar/x509 X509Certificate', N / 100, () => {
  const c = new peculiar.X509Certificate(leafDer);
  const san = c.getExtension(peculiar.SubjectAlternativeNameExtension);
  return c.publicKey.rawData.byteLength + (san?.names.items.length ?? 0) + c.extensions.length;
});
measure('leaf: pkijs Certificate.fromBER', N / 100, () => {
  const c = pkijs.Certificate.fromBER(arrayBuffer(leafDer));
  const san = c.extensions?.find((e) => e.extnID === SAN)?.parsedValue as pkijs.AltName | undefined;
  return c.subjectPublicKeyInfo.toSchema().toBER().byteLength + (san?.altNames.length ?? 0);
});
measure('leaf: node:crypto X509Certificate', N / 100, () => {
  const c = new NodeX509(leafDer);
  return c.publicKey.asymmetricKeyType!.length + (c.subjectAltName?.length ?? 0);
});

// The log's hot path: PEM in, key and subjects out (the libraries stop at the parsed structure).
measure(
  'log key: sigil parseVerificationKey, P-256 PUBLIC KEY',
  N,
  () => parseVerificationKey(keyPem).spki.length,
);
measure(
  'log key: @peculiar/x509 PublicKey, P-256 PUBLIC KEY',
  N / 100,
  () => new peculiar.PublicKey(keyDer).rawData.byteLength,
);
measure(
  'log key: pkijs PublicKeyInfo.fromBER, P-256',
  N / 100,
  () => pkijs.PublicKeyInfo.fromBER(arrayBuffer(keyDer)).subjectPublicKey.valueBlock.valueHexView.length,
);
measure(
  'log key: sigil parseVerificationKey, Fulcio CERTIFICATE',
  N,
  () => parseVerificationKey(leafPem).subjects.length,
);
measure('log key: @peculiar/x509 X509Certificate from PEM', N / 100, () => {
  const c = new peculiar.X509Certificate(leafPem.toString('latin1'));
  return c.getExtension(peculiar.SubjectAlternativeNameExtension)?.names.items.length;
});
if (sink === 0) console.log('(nothing parsed)');
