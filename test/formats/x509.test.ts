// The one X.509 parser (src/formats/x509.ts) on a public-good Fulcio leaf: what it reads, the precertificate
// TBS rebuilt both ways (RFC 6962 §3.2), the structural rules it adds to strict DER, and that no corruption of
// the certificate makes it (or the Rekor log's key parser over it) throw anything but its own error.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bitString,
  boolean,
  children,
  DerError,
  explicit,
  isPrecertificate,
  NULL,
  OID,
  octetString,
  oid,
  parseCertificate,
  parseDer,
  precertificateTbs,
  seq,
  tbsWithoutExtension,
  tlv,
  toPem,
} from '../../src/formats/index.js';
import { KeyError, parseVerificationKey } from '../../src/log/rekor/keys.js';

const bundle = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '../fixtures/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json'),
    'utf8',
  ),
);
const leafDer = Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64');
const leaf = parseCertificate(leafDer);

/** The leaf with its TBS fields and extensions replaced (the signature no longer matters to the parser). */
function rebuilt(opts: { fields?: Buffer[]; extensions?: Buffer[]; outer?: Buffer[] }): Buffer {
  const fields = opts.fields ?? leaf.tbsFields.filter((f) => f.tag !== 0xa3).map((f) => f.raw);
  const exts = opts.extensions ?? leaf.extensions.map((e) => e.raw);
  const tbs = seq(...fields, explicit(3, seq(...exts)));
  const [, alg, sig] = children(parseDer(leafDer));
  return seq(...(opts.outer ?? [tbs, alg.raw, sig.raw]));
}
const extension = (id: string, value: Buffer, critical?: Buffer) =>
  seq(oid(id), ...(critical ? [critical] : []), octetString(value));

describe('X.509 certificate parser', () => {
  it('reads a Fulcio leaf as node:crypto does', () => {
    const x = new X509Certificate(leafDer);
    expect(leaf.version).toBe(3);
    expect(leaf.notBefore.getTime()).toBe(new Date(x.validFrom).getTime());
    expect(leaf.notAfter.getTime()).toBe(new Date(x.validTo).getTime());
    expect(leaf.serialNumber.toString('hex')).toBe(
      x.serialNumber.toLowerCase().replace(/^(00)+(?=[0-7])/, ''),
    );
    expect(leaf.spki).toEqual(x.publicKey.export({ type: 'spki', format: 'der' }));
    expect(leaf.subjectAltNames.map((n) => `${n.type}:${n.value}`).join(', ')).toBe(
      x.subjectAltName?.replace(/^URI:/, 'uri:'),
    );
    expect(leaf.isCA).toBe(false);
    expect(isPrecertificate(leaf)).toBe(false);
    expect(leaf.tbs).toEqual(children(parseDer(leafDer))[0].raw);
  });

  it('rebuilds the TBS without an extension, and with it added back', () => {
    const sctExt = leaf.extensions.find((e) => e.oid === OID.sctList)!;
    const withoutSct = precertificateTbs(leaf);
    expect(withoutSct.includes(sctExt.raw)).toBe(false);
    // The SCT list is the leaf's last extension: dropping it and appending it again gives the signed TBS back.
    expect(leaf.extensions.at(-1)!.oid).toBe(OID.sctList);
    expect(tbsWithoutExtension(leaf, OID.sctList, sctExt.raw)).toEqual(leaf.tbs);
    // The precertificate twin: poison in place of the SCT list; without its poison it is the same TBS again.
    const poison = extension(OID.ctPoison, NULL, boolean(true));
    const precert = parseCertificate(
      rebuilt({
        extensions: [...leaf.extensions.filter((e) => e.oid !== OID.sctList).map((e) => e.raw), poison],
      }),
    );
    expect(isPrecertificate(precert)).toBe(true);
    expect(tbsWithoutExtension(precert, OID.ctPoison)).toEqual(withoutSct);
  });

  it('refuses what strict DER allows but X.509 does not, saying why', () => {
    const refused = (der: Buffer, why: RegExp) => {
      expect(() => parseCertificate(der)).toThrow(DerError);
      expect(() => parseCertificate(der)).toThrow(why);
    };
    const [tbs, alg, sig] = children(parseDer(leafDer)).map((n) => n.raw);
    refused(rebuilt({ outer: [tbs, alg, sig, NULL] }), /exactly three fields/);
    refused(rebuilt({ outer: [tbs, alg, bitString(Buffer.from([0x80]), 7)] }), /unused bits/);
    const exts = leaf.extensions.map((e) => e.raw);
    refused(rebuilt({ extensions: [...exts, exts[0]] }), /duplicate extension/);
    refused(rebuilt({ extensions: [seq(oid('1.2.3'))] }), /two or three fields/);
    // A critical flag that is not a canonical BOOLEAN.
    refused(
      rebuilt({ extensions: [extension('1.2.3', NULL, tlv(0x01, Buffer.from([0x01])))] }),
      /0x00 or 0xFF/,
    );
    refused(
      rebuilt({
        extensions: [extension(OID.keyUsage, Buffer.concat([bitString(Buffer.from([0x80]), 7), NULL]))],
      }),
      /trailing/,
    );
    const fields = leaf.tbsFields.filter((f) => f.tag !== 0xa3).map((f) => f.raw);
    // A serial number that is not minimally encoded, an unknown field after the key, a field out of order.
    const serial = leaf.tbsFields[1].content;
    refused(
      rebuilt({
        fields: [fields[0], tlv(0x02, Buffer.concat([Buffer.from([0]), serial])), ...fields.slice(2)],
      }),
      /not minimally encoded/,
    );
    refused(rebuilt({ fields: [...fields, NULL] }), /unexpected field 0x5/);
    refused(
      rebuilt({ fields: [...fields, tlv(0x82, Buffer.from([0])), tlv(0x81, Buffer.from([0]))] }),
      /unexpected field 0x81/,
    );
    refused(
      rebuilt({ fields: [fields[0], fields[1], seq(oid('1.2.840.10045.4.3.2')), ...fields.slice(3)] }),
      /differs/,
    );
  });

  it('throws only DerError, and the log only KeyError, however the certificate is cut or corrupted', () => {
    const pem = (der: Buffer) => Buffer.from(toPem(der));
    let parsed = 0;
    const check = (der: Buffer) => {
      try {
        parseCertificate(der);
        parsed++;
      } catch (err) {
        expect(err).toBeInstanceOf(DerError);
      }
      try {
        parseVerificationKey(pem(der));
      } catch (err) {
        expect(err).toBeInstanceOf(KeyError);
      }
    };
    for (let n = 0; n < leafDer.length; n++) {
      check(leafDer.subarray(0, n));
      for (const flip of [0xff, 0x80, 0x01]) {
        const bad = Buffer.from(leafDer);
        bad[n] ^= flip;
        check(bad);
      }
    }
    // Flips inside the signature, the SCT list or a text field still parse; that is what they must do.
    expect(parsed).toBeGreaterThan(0);
  });
});
