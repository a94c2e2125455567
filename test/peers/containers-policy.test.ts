// containers/image (go.podman.io/image/v5, the library under skopeo, podman and CRI-O) pulling from sigil's registry
// under a containers-policy.json(5) `sigstoreSigned` requirement, through test/peers/containers-policy, a stand-in for
// `skopeo copy --policy P --registries.d D docker://SRC dir:DEST` (skopeo itself is not served by the module proxy).
// registries.d turns on `use-sigstore-attachments`, so containers/image reads cosign's `sha256-<digest>.sig` tag.
//
// Keyless: containers/image matches a Fulcio certificate's subject only against its email SANs (`fulcio.subjectEmail`;
// signature/fulcio_cert.go has a FIXME for URIs), so sigil's own CI identities (URI SANs, like GitHub's) can never
// satisfy a keyless policy there. The accepted keyless signatures therefore come from an email identity: a small
// OIDC issuer here mints email tokens and sigil's CA trusts it (type "email", as Fulcio's email issuers). A workflow
// identity is refused by the email check, which containers/image makes last, after the Rekor SET, the chain and
// the issuer: the refusal proves those passed. With a public key (`keyPath`), `sigil sign --key` is accepted.
// Unsigned images, other identities, issuers or keys, another Rekor key and a tampered signature are refused.

import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../e2e/helpers.js';
import {
  describePeer,
  IDENTITY,
  PEERS_BIN,
  type PeerRun,
  type PeerStack,
  peerPath,
  REPOSITORY,
  runPeer,
  said,
  startPeerStack,
} from './peers.js';

const EMAIL = 'release-bot@sigil.test';

/** An OpenID provider of email identities: discovery, JWKS, and ES256 ID tokens with email_verified. */
async function startEmailIssuer(): Promise<{
  url: string;
  token(email: string): Promise<string>;
  stop(): Promise<void>;
}> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server: Server = createServer((req, res) => {
    const body =
      req.url === '/.well-known/openid-configuration'
        ? { issuer: url, jwks_uri: `${url}/jwks` }
        : req.url === '/jwks'
          ? { keys: [jwk] }
          : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url,
    token: (email: string) =>
      new SignJWT({ email, email_verified: true })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(url)
        .setSubject(`user-${email}`)
        .setAudience('sigstore')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describePeer(
  'containers-policy',
  'containers/image sigstoreSigned policy (skopeo copy) ⇄ sigil',
  (copyBin) => {
    let s: PeerStack;
    let issuer: Awaited<ReturnType<typeof startEmailIssuer>>;
    let copies = 0;
    // crane rewrites a .sig manifest, cosign v2 signs: both from scripts/peers.sh as well (checked in beforeAll).
    const crane = join(PEERS_BIN, 'crane');
    const cosign2 = join(PEERS_BIN, 'cosign2');
    const repo = () => `${s.registry}/${REPOSITORY}`;
    const hex = (image: string) => image.split('@sha256:')[1];

    /**
     * Writes a policy: `requirement` for REPOSITORY on docker://, anything else rejected. cosign's payloads name the
     * repository only, so signedIdentity is matchRepository unless the requirement says otherwise.
     */
    async function policy(name: string, requirement: Record<string, unknown>): Promise<string> {
      const path = join(s.work, `${name}.policy.json`);
      await writeFile(
        path,
        JSON.stringify({
          default: [{ type: 'reject' }],
          transports: {
            docker: {
              [repo()]: [
                { type: 'sigstoreSigned', signedIdentity: { type: 'matchRepository' }, ...requirement },
              ],
            },
          },
        }),
      );
      return path;
    }
    const keyless = (o: { issuer?: string; email?: string; rekorKey?: string } = {}) =>
      policy(`keyless-${++copies}`, {
        fulcio: {
          caPath: s.pem.fulcioChain,
          oidcIssuer: o.issuer ?? issuer.url,
          subjectEmail: o.email ?? EMAIL,
        },
        rekorPublicKeyPath: o.rekorKey ?? s.pem.rekorKey,
      });

    /** `skopeo copy --policy POLICY --registries.d DIR --src-tls-verify=false [FLAGS] docker://SRC DEST`. */
    function copy(policyPath: string, src: string, dest?: string, flags: string[] = []): Promise<PeerRun> {
      return runPeer(
        copyBin,
        [
          '--policy',
          policyPath,
          '--registries.d',
          join(s.work, 'registries.d'),
          '--authfile',
          join(s.env.DOCKER_CONFIG as string, 'config.json'),
          '--registries-conf',
          join(s.work, 'registries.conf'),
          '--tls-verify=false',
          ...flags,
          `docker://${src}`,
          dest ?? `dir:${join(s.work, `out-${++copies}`)}`,
        ],
        s.env,
      );
    }

    /** Rewrites the signature in every layer of the image's `.sig` manifest (one bit flipped) and pushes it back. */
    async function tamper(image: string): Promise<void> {
      const sigRef = `${repo()}:sha256-${hex(image)}.sig`;
      const got = await runPeer(crane, ['manifest', '--insecure', sigRef], s.env);
      expect(got.code, said(got)).toBe(0);
      const manifest = JSON.parse(got.stdout) as { layers: { annotations: Record<string, string> }[] };
      for (const layer of manifest.layers) {
        const sig = Buffer.from(layer.annotations['dev.cosignproject.cosign/signature'], 'base64');
        sig[sig.length - 1] ^= 1;
        layer.annotations['dev.cosignproject.cosign/signature'] = sig.toString('base64');
      }
      const put = await runPeer(crane, ['edit', 'manifest', '--insecure', sigRef], s.env, {
        input: JSON.stringify(manifest),
      });
      expect(put.code, said(put)).toBe(0);
    }

    beforeAll(async () => {
      for (const need of ['crane', 'cosign2'] as const)
        if (!peerPath(need)) throw new Error(`${need} is not installed: run scripts/peers.sh ${need}`);
      issuer = await startEmailIssuer();
      s = await startPeerStack({
        caConfig: {
          issuers: [{ issuerUrl: issuer.url, type: 'email', clientId: 'sigstore' }],
          allowOwnIssuer: true,
        },
      });
      await mkdir(join(s.work, 'registries.d'));
      await writeFile(
        join(s.work, 'registries.d', 'sigil.yaml'),
        `docker:\n  ${s.registry}:\n    use-sigstore-attachments: true\n`,
      );
      // No system registries.conf: plain HTTP to 127.0.0.1 comes from --tls-verify=false alone.
      await writeFile(join(s.work, 'registries.conf'), '');
    });
    afterAll(async () => {
      await s?.stop();
      await issuer?.stop();
    });

    it('keyless, email identity: sigil sign is accepted; unsigned, other email or issuer, another Rekor key and a tampered signature are refused', async () => {
      const image = await s.pushImage('cp-keyless', 'signed keylessly by sigil for containers/image');
      const unsigned = await s.pushImage('cp-unsigned', 'nobody signed this');
      const signed = await s.sigil(['sign', '--yes', '--identity-token', await issuer.token(EMAIL), image]);
      expect(signed.code, said(signed)).toBe(0);

      const ok = await copy(await keyless(), image);
      expect(ok.code, said(ok)).toBe(0);
      expect(ok.stderr).toContain('Writing manifest to image destination');
      const byTag = await copy(
        await keyless(),
        `${repo()}:cp-keyless`,
        `oci:${join(s.work, 'oci')}:cp-keyless`,
        ['--remove-signatures'],
      );
      expect(byTag.code, said(byTag)).toBe(0);

      const none = await copy(await keyless(), unsigned);
      expect(none.code, said(none)).not.toBe(0);
      expect(none.stderr).toContain('A signature was required, but no signature exists');
      const otherEmail = await copy(await keyless({ email: `other-${EMAIL}` }), image);
      expect(otherEmail.code, said(otherEmail)).not.toBe(0);
      expect(otherEmail.stderr).toContain(`Required email "other-${EMAIL}" not found`);
      const otherIssuer = await copy(await keyless({ issuer: s.url }), image);
      expect(otherIssuer.code, said(otherIssuer)).not.toBe(0);
      expect(otherIssuer.stderr).toContain('Unexpected Fulcio OIDC issuer');
      const otherRekor = await copy(await keyless({ rekorKey: s.pem.ctKey }), image);
      expect(otherRekor.code, said(otherRekor)).not.toBe(0);
      expect(otherRekor.stderr).toContain('cryptographic signature verification of Rekor SET failed');

      await tamper(image);
      const bad = await copy(await keyless(), image);
      expect(bad.code, said(bad)).not.toBe(0);
      expect(bad.stderr).toContain('signature in Rekor SET does not match');
    });

    it('keyless, CI workflow identity (a URI SAN): everything verifies up to the subject, which containers/image matches only as an email', async () => {
      const image = await s.pushImage('cp-workflow', 'signed by the CI runner');
      const signed = await s.sigil(['sign', '--yes', image]);
      expect(signed.code, said(signed)).toBe(0);
      const r = await copy(await keyless({ issuer: s.url, email: IDENTITY }), image);
      expect(r.code, said(r)).not.toBe(0);
      expect(r.stderr).toContain(`Required email "${IDENTITY}" not found (got [])`);
      // cosign v2's signature for the same runner identity gets the same answer: a limit of containers/image.
      const other = await s.pushImage('cp-workflow-cosign2', 'signed by the CI runner with cosign v2');
      const v2 = await runPeer(
        cosign2,
        ['sign', '--yes', '--fulcio-url', s.url, '--rekor-url', s.url, other],
        {
          ...s.env,
          SIGSTORE_ROOT_FILE: s.pem.fulcioChain,
          SIGSTORE_REKOR_PUBLIC_KEY: s.pem.rekorKey,
          SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: s.pem.ctKey,
        },
      );
      expect(v2.code, said(v2)).toBe(0);
      const r2 = await copy(await keyless({ issuer: s.url, email: IDENTITY }), other);
      expect(r2.code, said(r2)).not.toBe(0);
      expect(r2.stderr).toContain(`Required email "${IDENTITY}" not found (got [])`);
    });

    it('cosign v2 keyless signatures (email identity, .sig tag) are accepted by the same policy', async () => {
      const image = await s.pushImage('cp-cosign2', 'signed by cosign v2 for containers/image');
      // cosign v2 takes --identity-token as a file when one by that name exists, and fails on a long token.
      const tokenFile = join(s.work, 'email-token.jwt');
      await writeFile(tokenFile, await issuer.token(EMAIL));
      const signed = await runPeer(
        cosign2,
        ['sign', '--yes', '--fulcio-url', s.url, '--rekor-url', s.url, '--identity-token', tokenFile, image],
        {
          ...s.env,
          SIGSTORE_ROOT_FILE: s.pem.fulcioChain,
          SIGSTORE_REKOR_PUBLIC_KEY: s.pem.rekorKey,
          SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: s.pem.ctKey,
        },
      );
      expect(signed.code, said(signed)).toBe(0);
      const ok = await copy(await keyless(), image);
      expect(ok.code, said(ok)).toBe(0);
      const otherEmail = await copy(await keyless({ email: `other-${EMAIL}` }), image);
      expect(otherEmail.code, said(otherEmail)).not.toBe(0);
    });

    it('keyPath: sigil sign --key is accepted (with and without the Rekor key); unsigned, another key and a tampered signature are refused', async () => {
      const keys = { COSIGN_PASSWORD: 'correct horse' };
      const prefix = join(s.work, 'cosign');
      const gen = await s.sigil(['generate-key-pair', '--output-key-prefix', prefix], keys);
      expect(gen.code, said(gen)).toBe(0);
      const other = await s.sigil(['generate-key-pair', '--output-key-prefix', join(s.work, 'other')], keys);
      expect(other.code, said(other)).toBe(0);

      const image = await s.pushImage('cp-key', 'signed with a key by sigil');
      const unsigned = await s.pushImage('cp-key-unsigned', 'nobody signed this either');
      const signed = await s.sigil(['sign', '--yes', '--key', `${prefix}.key`, image], keys);
      expect(signed.code, said(signed)).toBe(0);

      const withKey = (key: string, rekor = true) =>
        policy(`key-${++copies}`, { keyPath: key, ...(rekor ? { rekorPublicKeyPath: s.pem.rekorKey } : {}) });
      const ok = await copy(await withKey(`${prefix}.pub`), image);
      expect(ok.code, said(ok)).toBe(0);
      const noRekor = await copy(await withKey(`${prefix}.pub`, false), image);
      expect(noRekor.code, said(noRekor)).toBe(0);

      const none = await copy(await withKey(`${prefix}.pub`), unsigned);
      expect(none.code, said(none)).not.toBe(0);
      expect(none.stderr).toContain('A signature was required, but no signature exists');
      // The default signedIdentity (matchRepoDigestOrExact) wants a tag or digest in the signed reference; cosign's
      // (and sigil's) name the repository alone, as containers-policy.json(5) warns.
      const defaultIdentity = await copy(
        await policy(`key-${++copies}`, { keyPath: `${prefix}.pub`, signedIdentity: undefined }),
        image,
      );
      expect(defaultIdentity.code, said(defaultIdentity)).not.toBe(0);
      expect(defaultIdentity.stderr).toContain(`Signature for identity "${repo()}" is not accepted`);
      const otherRepo = await copy(
        await policy(`key-${++copies}`, {
          keyPath: `${prefix}.pub`,
          signedIdentity: { type: 'exactRepository', dockerRepository: `${s.registry}/acme/other` },
        }),
        image,
      );
      expect(otherRepo.code, said(otherRepo)).not.toBe(0);
      expect(otherRepo.stderr).toContain('is not accepted');
      const wrongKey = await copy(await withKey(join(s.work, 'other.pub'), false), image);
      expect(wrongKey.code, said(wrongKey)).not.toBe(0);
      expect(wrongKey.stderr).toContain('cryptographic signature verification failed');

      await tamper(image);
      const bad = await copy(await withKey(`${prefix}.pub`, false), image);
      expect(bad.code, said(bad)).not.toBe(0);
      expect(bad.stderr).toContain('cryptographic signature verification failed');
    });
  },
);
