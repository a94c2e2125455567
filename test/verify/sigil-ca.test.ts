// sigil's own CA (src/ca, on loopback) issues a certificate to sigstore-js; sigil's verifier accepts its chain,
// embedded SCT (from sigil's CT log) and GitHub identity with the CA's trusted_root.json, and rejects a
// wrong identity. (No transparency log is involved: the CA service has none, so the log checks are covered by
// the other tests.)
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sign } from 'sigstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBundle, parseCertificate } from '../../src/formats/index.js';
import {
  certificateIdentity,
  checkIdentity,
  checkLeaf,
  checkPathAtTimes,
  findCertificatePaths,
  loadTrustMaterial,
  verifyEmbeddedScts,
} from '../../src/verify/index.js';
import { devToken, type RunningCa, startCa } from '../ca/helpers.js';

describe('certificates from sigil CA', () => {
  let ca: RunningCa;
  beforeAll(async () => {
    ca = await startCa();
  });
  afterAll(() => ca.stop());

  it('chain, SCT and identity verify with the CA trusted_root.json', async () => {
    const token = await devToken(ca.url);
    const json = await sign(Buffer.from('hello'), {
      fulcioURL: ca.url,
      identityToken: token,
      tlogUpload: false,
      retry: 0,
    });
    const bundle = parseBundle(json);
    const vm = bundle.verificationMaterial.content;
    const der =
      vm.kind === 'certificate'
        ? vm.certificate
        : vm.kind === 'x509CertificateChain'
          ? vm.certificates[0]
          : undefined;
    const leaf = parseCertificate(der!);
    const trust = loadTrustMaterial(await readFile(join(ca.dataDir, 'trusted_root.json')));

    checkLeaf(leaf);
    const path = checkPathAtTimes(leaf, findCertificatePaths(leaf, trust), [leaf.notBefore.getTime() + 1000]);
    expect(verifyEmbeddedScts(leaf, path.issuer, trust, 1)).toBe(1);
    const id = certificateIdentity(leaf);
    expect(id.issuer).toBeTruthy();
    const san = id.subjectAlternativeNames[0];
    expect(san).toContain('acme/widgets');
    checkIdentity(id, {
      subjectAlternativeName: san,
      issuer: id.issuer,
      githubWorkflowRepository: 'acme/widgets',
    });
    expect(() =>
      checkIdentity(id, {
        subjectAlternativeName: san,
        issuer: id.issuer,
        githubWorkflowRepository: 'acme/other',
      }),
    ).toThrow(/GitHub workflow repository/);
    expect(() =>
      checkPathAtTimes(leaf, findCertificatePaths(leaf, trust), [leaf.notAfter.getTime() + 1000]),
    ).toThrow(/not valid at signing time/);
  });
});
