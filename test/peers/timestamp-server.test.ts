// sigstore's own timestamp-authority server (v2.1.3, scripts/peers.sh) and sigil, both directions (#14): sigil's
// TSA client gets timestamps from it and sigil's verifier accepts them with its chain in the trusted root; the
// same server's tokens are refused over other bytes or with another TSA's chain. (The other direction, sigil's TSA
// answering sigstore clients, is cosign's and sigstore-go's signing against sigil: cosign3-rekor-v2, sigstore-go.)
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pemToDer } from '../../src/formats/index.js';
import { fetchTimestamp } from '../../src/sign/index.js';
import { buildTrustedRoot } from '../../src/trust/index.js';
import { loadTrustMaterial, verifyBundle } from '../../src/verify/index.js';
import { freePort } from '../e2e/helpers.js';
import { timestampedBundle } from '../tsa/helpers.js';
import { describePeer } from './peers.js';

describePeer('timestamp-server', 'sigstore timestamp-server ⇄ sigil', (bin) => {
  let server: ChildProcess;
  let url: string;
  let chain: Buffer[];

  beforeAll(async () => {
    const port = await freePort();
    // The in-memory signer makes its own chain at start; NTP monitoring needs the internet.
    server = spawn(
      bin,
      [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--timestamp-signer',
        'memory',
        '--disable-ntp-monitoring',
      ],
      { stdio: 'ignore' },
    );
    url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200; i++) {
      try {
        const res = await fetch(`${url}/api/v1/timestamp/certchain`);
        if (res.ok) {
          chain = pemToDer(await res.text());
          break;
        }
      } catch {}
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(chain?.length).toBeGreaterThan(0);
  });
  afterAll(() => {
    server?.kill();
  });

  const trust = (certs: Buffer[]) =>
    loadTrustMaterial(
      buildTrustedRoot({
        certificateAuthorities: [],
        tlogs: [],
        ctlogs: [],
        timestampAuthorities: [
          {
            baseUrl: `${url}/api/v1/timestamp`,
            organization: 'sigstore',
            commonName: 'timestamp-server',
            chain: certs,
            validFrom: new Date(Date.now() - 3600_000),
          },
        ],
      }),
    );

  it('sigil’s client gets a timestamp from it, and sigil’s verifier accepts it as the time of signing', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const artifact = Buffer.from(`timestamped by sigstore's TSA ${Date.now()}`);
    const signature = sign('sha256', artifact, privateKey);
    const reply = await fetchTimestamp(`${url}/api/v1/timestamp`, signature);
    const bundle = (tokens: Buffer[]) => timestampedBundle(artifact, signature, tokens);
    const policy = { publicKey, tlogThreshold: 0 };
    const result = verifyBundle(bundle([reply]), artifact, policy, trust(chain));
    expect(result.checks).toContain('timestamp-authority');
    // Another signature's timestamp, or another TSA's chain in the trusted root, is refused.
    const other = await fetchTimestamp(`${url}/api/v1/timestamp`, Buffer.from('another signature'));
    expect(() => verifyBundle(bundle([other]), artifact, policy, trust(chain))).toThrow(
      /not over this bundle/,
    );
    expect(() => verifyBundle(bundle([reply]), artifact, policy, trust(chain.slice(1)))).toThrow(
      /not issued by a timestamp authority in the trusted root/,
    );
  });
});
