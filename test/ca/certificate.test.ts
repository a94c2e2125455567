// Certificates parsed back with an independent parser (pkijs) and every field checked: the leaf as
// Fulcio shapes it, the root and intermediate, the trust bundle, the configuration, CSR and legacy v1 issuance,
// and the identity mapping of every issuer type (email, GitLab, Kubernetes, URI, username) through a test-double
// identity provider standing in for those third-party IdPs.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate as NodeX509, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken, newKey, type RunningCa, requestCert, startCa, subOf } from './helpers.js';
import { startTestIdp, type TestIdp } from './idp-double.js';
import { type Cert, parseCert } from './pkix.js';

let ca: RunningCa;
let idp: TestIdp;

beforeAll(async () => {
  idp = await startTestIdp(['email', 'gitlab', 'k8s', 'uri', 'user']);
  ca = await startCa({
    config: {
      issuers: [
        { issuerUrl: idp.issuer('email'), type: 'email', clientId: 'sigstore' },
        { issuerUrl: idp.issuer('gitlab'), type: 'gitlab-pipeline', clientId: 'sigstore' },
        { issuerUrl: idp.issuer('k8s'), type: 'kubernetes', clientId: 'sigstore' },
        {
          issuerUrl: idp.issuer('uri'),
          type: 'uri',
          clientId: 'sigstore',
          subjectDomain: 'https://ci.example.com',
        },
        {
          issuerUrl: idp.issuer('user'),
          type: 'username',
          clientId: 'sigstore',
          subjectDomain: 'example.com',
        },
      ],
    },
  });
});
afterAll(async () => {
  await ca.stop();
  await idp.close();
});

async function chainOf(res: Response): Promise<Cert[]> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const body = JSON.parse(text);
  return body.signedCertificateEmbeddedSct.chain.certificates.map((p: string) => parseCert(p));
}

/** Fulcio 1.8+ values are DER UTF8String: tag 0x0c, short length. */
function derUtf8(cert: Cert, n: number): string | undefined {
  const b = cert.ext(`1.3.6.1.4.1.57264.1.${n}`)?.value;
  if (!b) return undefined;
  expect(b[0]).toBe(0x0c);
  return b.subarray(b[1] & 0x80 ? 2 + (b[1] & 0x7f) : 2).toString('utf8');
}
const rawExt = (cert: Cert, n: number) => cert.ext(`1.3.6.1.4.1.57264.1.${n}`)?.value.toString('utf8');
const pemBody = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');

describe('issued certificates', () => {
  it('shapes the leaf as Fulcio does and chains to the intermediate and root', async () => {
    const key = newKey();
    const before = Date.now();
    const [leaf, inter, root] = await chainOf(await requestCert(ca.url, await devToken(ca.url), key));

    expect(leaf.raw.version).toBe(2); // v3
    expect(leaf.subject).toBe('');
    expect(leaf.issuer).toBe(inter.subject);
    expect(leaf.serialHex).toMatch(/^[0-9a-f]{40}$/);
    expect(leaf.signatureOid).toBe('1.2.840.10045.4.3.2'); // ecdsa-with-SHA256 (P-256 intermediate)
    expect(leaf.notAfter.getTime() - leaf.notBefore.getTime()).toBe(10 * 60 * 1000);
    expect(leaf.notBefore.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    expect(leaf.spki).toEqual(pemBody(key.pem));

    expect(leaf.ext('2.5.29.15')?.critical).toBe(true);
    expect(leaf.keyUsage()).toEqual(['digitalSignature']);
    expect(leaf.ext('2.5.29.37')?.critical).toBe(false);
    expect(leaf.eku()).toEqual(['1.3.6.1.5.5.7.3.3']);
    expect(leaf.ext('2.5.29.17')?.critical).toBe(true);
    expect(leaf.san()).toEqual([
      ['url', 'https://github.com/acme/widgets/.github/workflows/release.yml@refs/heads/main'],
    ]);
    expect(leaf.authorityKeyId()).toBe(inter.subjectKeyId());
    const spkiBits = leaf.spki.subarray(-65);
    expect(leaf.subjectKeyId()).toBe(createHash('sha1').update(spkiBits).digest('hex'));
    expect(leaf.basicConstraints()).toBeUndefined();
    expect(leaf.ext('1.3.6.1.4.1.11129.2.4.3')).toBeUndefined(); // no poison in the final certificate
    expect(leaf.ext('1.3.6.1.4.1.11129.2.4.2')?.critical).toBe(false);

    // Extension order as fulcio's Render: standard ones, 1.1–1.6, 1.8–1.22, 1.24, then the SCT list.
    expect(leaf.extensions.map((e) => e.oid)).toEqual([
      '2.5.29.15',
      '2.5.29.37',
      '2.5.29.14',
      '2.5.29.35',
      '2.5.29.17',
      ...[1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 24].map(
        (n) => `1.3.6.1.4.1.57264.1.${n}`,
      ),
      '1.3.6.1.4.1.11129.2.4.2',
    ]);
    expect(rawExt(leaf, 1)).toBe(ca.url);
    expect(derUtf8(leaf, 8)).toBe(ca.url);

    expect(await leaf.verifiedBy(inter)).toBe(true);
    expect(await inter.verifiedBy(root)).toBe(true);
    expect(await root.verifiedBy(root)).toBe(true);
    expect(new NodeX509(leaf.der).checkIssued(new NodeX509(inter.der))).toBe(true);
  });

  it('has a CA root and a pathLen-0 code-signing intermediate', async () => {
    const [, inter, root] = await chainOf(await requestCert(ca.url, await devToken(ca.url)));
    expect(root.subject).toBe('O=sigil, CN=sigil root');
    expect(root.issuer).toBe(root.subject);
    expect(root.basicConstraints()).toEqual({ ca: true, pathLen: undefined });
    expect(root.ext('2.5.29.19')?.critical).toBe(true);
    expect(root.keyUsage()).toEqual(['keyCertSign', 'cRLSign']);
    expect(root.signatureOid).toBe('1.2.840.10045.4.3.3'); // ecdsa-with-SHA384 (P-384 root)
    expect(inter.subject).toBe('O=sigil, CN=sigil intermediate');
    expect(inter.basicConstraints()).toEqual({ ca: true, pathLen: 0 });
    expect(inter.keyUsage()).toEqual(['keyCertSign', 'cRLSign']);
    expect(inter.eku()).toEqual(['1.3.6.1.5.5.7.3.3']);
    expect(inter.authorityKeyId()).toBe(root.subjectKeyId());
    const bundle = (await (await fetch(`${ca.url}/api/v2/trustBundle`)).json()) as {
      chains: { certificates: string[] }[];
    };
    expect(bundle.chains).toHaveLength(1);
    expect(bundle.chains[0].certificates.map((p) => parseCert(p).subject)).toEqual([
      inter.subject,
      root.subject,
    ]);
  });

  it('lists its issuers in /api/v2/configuration', async () => {
    const cfg = (await (await fetch(`${ca.url}/api/v2/configuration`)).json()) as { issuers: unknown[] };
    expect(cfg.issuers).toContainEqual({
      issuerUrl: idp.issuer('email'),
      audience: 'sigstore',
      challengeClaim: 'email',
      issuerType: 'email',
    });
    expect(cfg.issuers).toContainEqual({
      issuerUrl: ca.url,
      audience: 'sigstore',
      challengeClaim: 'sub',
      issuerType: 'github-workflow',
    });
  });

  it('issues from a CSR, and refuses malformed or badly signed ones', async () => {
    // openssl makes the CSR: an implementation independent of ours.
    const dir = mkdtempSync(join(tmpdir(), 'sigil-csr-'));
    const key = newKey();
    writeFileSync(join(dir, 'key.pem'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const csrPem = execFileSync('openssl', [
      'req',
      '-new',
      '-key',
      join(dir, 'key.pem'),
      '-subj',
      '/CN=ignored',
    ]);
    const post = (csrField: string) =>
      devToken(ca.url).then((tok) =>
        fetch(`${ca.url}/api/v2/signingCert`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            credentials: { oidcIdentityToken: tok },
            certificateSigningRequest: csrField,
          }),
        }),
      );
    const [leaf] = await chainOf(await post(csrPem.toString('base64')));
    expect(leaf.spki).toEqual(pemBody(key.pem));

    let res = await post(
      Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----').toString(
        'base64',
      ),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(
      /certificate signing request could not be parsed/,
    );
    const der = pemBody(csrPem.toString());
    der[der.length - 3] ^= 0xff; // inside the signature
    res = await post(der.toString('base64'));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/signature could not be verified/);
  });

  it('serves the legacy v1 API: PEM chain, token in the Authorization header', async () => {
    const tok = await devToken(ca.url);
    const key = newKey();
    const body = {
      publicKey: { algorithm: 'ecdsa', content: Buffer.from(key.pem).toString('base64') },
      signedEmailAddress: sign('sha256', Buffer.from(subOf(tok)), key.privateKey).toString('base64'),
    };
    const res = await fetch(`${ca.url}/api/v1/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/application\/pem-certificate-chain/);
    const pems = (await res.text()).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
    expect(pems).toHaveLength(3);
    expect(parseCert(pems[0]).spki).toEqual(pemBody(key.pem));
    const unauth = await fetch(`${ca.url}/api/v1/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(unauth.status).toBe(401);
  });

  it('answers bad request shapes with a 4xx JSON message', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${ca.url}/api/v2/signingCert`, { method: 'POST', headers: { 'content-type': type }, body });
    let res = await post('{"credentials":');
    expect(res.status).toBe(400);
    res = await post(JSON.stringify({ credentials: { oidcIdentityToken: await devToken(ca.url) } }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(
      /publicKeyRequest or certificateSigningRequest/,
    );
    res = await post(JSON.stringify({ pad: 'x'.repeat(100 * 1024) }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { message: string }).message).toMatch(/too large/i);
  });
});

/** A GitLab CI token's claims for a tag pipeline of grp/proj. */
const GITLAB_CLAIMS = {
  sub: 'project_path:grp/proj:ref_type:tag:ref:v1',
  ci_config_ref_uri: 'gitlab.com/grp/proj//.gitlab-ci.yml@refs/tags/v1',
  ci_config_sha: 'c'.repeat(40),
  runner_environment: 'gitlab-hosted',
  project_path: 'grp/proj',
  sha: 'd'.repeat(40),
  ref_type: 'tag',
  ref: 'v1',
  project_id: 42,
  namespace_path: 'grp',
  namespace_id: '7',
  pipeline_source: 'push',
  job_id: '999',
  project_visibility: 'internal',
};

describe('identity mapping per issuer type', () => {
  async function certFor(kind: string, claims: Record<string, unknown>, challenge?: string) {
    const tok = await idp.mint(kind, claims);
    return (await chainOf(await requestCert(ca.url, tok, newKey(), challenge ?? (claims.sub as string))))[0];
  }
  const sanOf = (c: Cert) => c.san();

  it('email: rfc822Name SAN, proof over the email, email_verified required', async () => {
    const c = await certFor(
      'email',
      { sub: 'u-123', email: 'dev@example.com', email_verified: true },
      'dev@example.com',
    );
    expect(sanOf(c)).toEqual([['email', 'dev@example.com']]);
    expect(rawExt(c, 1)).toBe(idp.issuer('email'));
    expect(derUtf8(c, 24)).toBe('u-123');
    expect(derUtf8(c, 9)).toBeUndefined();
    const tok = await idp.mint('email', { sub: 'u-1', email: 'dev@example.com', email_verified: false });
    const res = await requestCert(ca.url, tok, newKey(), 'dev@example.com');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/email_verified/);
  });

  it('a "url" claim in the token does not move the SAN: the issuer\'s template decides (GitHub and GitLab)', async () => {
    const gh = await chainOf(
      await requestCert(ca.url, await devToken(ca.url, { claims: { url: 'https://evil.example' } })),
    );
    expect(gh[0].san()).toEqual([
      ['url', 'https://github.com/acme/widgets/.github/workflows/release.yml@refs/heads/main'],
    ]);
    expect(rawExt(gh[0], 12) ?? '').not.toContain('evil');
    const gl = await certFor('gitlab', { ...GITLAB_CLAIMS, url: 'https://evil.example' });
    expect(JSON.stringify(gl.extensions.map((e) => e.value.toString('latin1')))).not.toContain('evil');
  });

  it('gitlab-pipeline: fulcio config.yaml mapping', async () => {
    const c = await certFor('gitlab', GITLAB_CLAIMS);
    expect(sanOf(c)).toEqual([['url', 'https://gitlab.com/grp/proj//.gitlab-ci.yml@refs/tags/v1']]);
    const expected: Record<number, string> = {
      9: 'https://gitlab.com/grp/proj//.gitlab-ci.yml@refs/tags/v1',
      10: 'c'.repeat(40),
      11: 'gitlab-hosted',
      12: 'https://gitlab.com/grp/proj',
      13: 'd'.repeat(40),
      14: 'refs/tags/v1',
      15: '42',
      16: 'https://gitlab.com/grp',
      17: '7',
      18: 'https://gitlab.com/grp/proj//.gitlab-ci.yml@refs/tags/v1',
      19: 'c'.repeat(40),
      20: 'push',
      21: 'https://gitlab.com/grp/proj/-/jobs/999',
      22: 'internal',
      24: 'project_path:grp/proj:ref_type:tag:ref:v1',
    };
    for (const [n, v] of Object.entries(expected)) expect([n, derUtf8(c, Number(n))]).toEqual([n, v]);
    expect(rawExt(c, 2)).toBeUndefined(); // the deprecated GitHub extensions are GitHub's only
  });

  it('kubernetes: service account URI', async () => {
    const c = await certFor('k8s', {
      sub: 'system:serviceaccount:prod:builder',
      'kubernetes.io': { namespace: 'prod', serviceaccount: { name: 'builder', uid: 'x' } },
    });
    expect(sanOf(c)).toEqual([['url', 'https://kubernetes.io/namespaces/prod/serviceaccounts/builder']]);
  });

  it('uri: subject must live under the subject domain', async () => {
    const c = await certFor('uri', { sub: 'https://ci.example.com/pipelines/7' });
    expect(sanOf(c)).toEqual([['url', 'https://ci.example.com/pipelines/7']]);
    const tok = await idp.mint('uri', { sub: 'https://elsewhere.example.org/x' });
    const res = await requestCert(ca.url, tok, newKey(), 'https://elsewhere.example.org/x');
    expect(res.status).toBe(400);
  });

  it('username: OtherName SAN user!domain', async () => {
    const c = await certFor('user', { sub: 'alice' });
    const san = c.ext('2.5.29.17')!;
    expect(san.value.includes(Buffer.from('alice!example.com'))).toBe(true);
    expect(
      san.value.includes(Buffer.from('06 0a 2b 06 01 04 01 83 bf 30 01 07'.replace(/ /g, ''), 'hex')),
    ).toBe(true);
    expect(san.critical).toBe(true);
  });

  it('a token for one issuer type cannot pass with claims of another', async () => {
    // A GitLab issuer token lacking GitLab claims is refused, naming the missing claim.
    const tok = await idp.mint('gitlab', { sub: 'x' });
    const res = await requestCert(ca.url, tok);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/ci_config_ref_uri/);
  });
});
