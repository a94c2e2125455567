// `sigil up`'s composition: all services on one port, endpoints.json and the registry credentials it writes,
// and the same identity (keys, trust files, registry user) after a restart on the same data dir.
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENDPOINTS_FILE, type Endpoints, startStack } from '../../src/server/index.js';

describe('sigil up stack', () => {
  it('serves every service on one port and keeps its identity across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sigil-up-'));
    const first = await startStack({ dataDir, port: 0, logLevel: 'silent' });
    let rootBefore: unknown;
    try {
      const { url } = first.endpoints;
      const health = (await (await fetch(`${url}/healthz`)).json()) as { services: string[] };
      expect(health.services).toEqual(expect.arrayContaining(['log', 'registry', 'ca']));
      expect((await fetch(`${url}/api/v1/log`)).status).toBe(200);
      const written = JSON.parse(await readFile(join(dataDir, ENDPOINTS_FILE), 'utf8')) as Endpoints;
      expect(written).toEqual(first.endpoints);
      expect(written.env.SIGIL_URL).toBe(url);
      // The exports name what the CLI reads: the trust dir holds both trust files, which name this stack.
      const trustDir = written.env.SIGIL_TRUST_DIR;
      expect(JSON.parse(await readFile(join(trustDir, 'trusted_root.json'), 'utf8')).mediaType).toMatch(
        /trustedroot/,
      );
      const signing = JSON.parse(await readFile(join(trustDir, 'signing_config.json'), 'utf8'));
      expect(JSON.stringify(signing)).toContain(url);
      expect(written.env.REGISTRY_AUTH_FILE).toBe(written.registryAuthFile);
      expect(written.env.SIGIL_DATA_DIR).toBe(dataDir);
      // The env file is valid shell giving exactly those exports.
      const sourced = execFileSync('sh', ['-c', `. "$1" && env`, 'sh', written.envFile], {
        env: { PATH: process.env.PATH },
        encoding: 'utf8',
      });
      for (const [k, v] of Object.entries(written.env)) expect(sourced).toContain(`${k}=${v}\n`);
      // …and puts this checkout's `sigil` first on PATH, so scripts call it without npx.
      const which = execFileSync(
        'sh',
        ['-c', '. "$1" && command -v sigil && sigil version', 'sh', written.envFile],
        {
          env: { PATH: process.env.PATH },
          encoding: 'utf8',
        },
      );
      expect(which.split('\n')[0]).toBe(join(written.binDir, 'sigil'));
      expect(which).toMatch(/^sigil \d+\.\d+\.\d+/m);

      // Fulcio and the CI issuer answer on the same port as the registry.
      expect((await fetch(`${url}/api/v2/configuration`)).status).toBe(200);
      expect((await fetch(`${url}/.well-known/openid-configuration`)).status).toBe(200);
      rootBefore = await (await fetch(`${url}/trusted_root.json`)).json();
      expect(JSON.parse(await readFile(written.trustedRoot, 'utf8'))).toEqual(rootBefore);
      // The trusted root names the transparency log this stack runs, by the key the log serves.
      const logKeyPem = await (await fetch(`${url}/api/v1/log/publicKey`)).text();
      const logId = createHash('sha256')
        .update(createPublicKey(logKeyPem).export({ type: 'spki', format: 'der' }))
        .digest('base64');
      // Two logs since sigil up runs Rekor v2 as well (b692528): the v1 log, by this key, and the v2 log.
      const keyIds = (rootBefore as { tlogs: { logId: { keyId: string } }[] }).tlogs.map(
        (t) => t.logId.keyId,
      );
      expect(keyIds).toContain(logId);
      expect(keyIds).toHaveLength(2);

      // Push needs credentials; the ones in the auth file get a push token.
      expect((await fetch(`${url}/v2/demo/app/blobs/uploads/`, { method: 'POST' })).status).toBe(401);
      expect((await stat(written.registryAuthFile)).mode & 0o777).toBe(0o600);
      const auths = JSON.parse(await readFile(written.registryAuthFile, 'utf8')).auths as Record<
        string,
        { auth: string }
      >;
      const basic = auths[written.registry].auth;
      const challenge = (await fetch(`${url}/v2/`)).headers.get('www-authenticate') ?? '';
      const realm = /realm="([^"]+)"/.exec(challenge)?.[1];
      expect(realm).toBeDefined();
      const tokenRes = await fetch(`${realm}?service=sigil-registry&scope=repository:demo/app:push,pull`, {
        headers: { authorization: `Basic ${basic}` },
      });
      expect(tokenRes.status).toBe(200);
      const { token } = (await tokenRes.json()) as { token: string };
      const upload = await fetch(`${url}/v2/demo/app/blobs/uploads/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(upload.status).toBe(202);
    } finally {
      await first.server.close();
    }

    const second = await startStack({ dataDir, port: 0, logLevel: 'silent' });
    try {
      // Same keys and certificates; only the URLs differ, since port 0 picked another port.
      type Root = {
        certificateAuthorities: { certChain: unknown }[];
        ctlogs: { publicKey: unknown; logId: unknown }[];
      };
      const rootAfter = (await (await fetch(`${second.endpoints.url}/trusted_root.json`)).json()) as Root;
      const before = rootBefore as Root;
      expect(rootAfter.certificateAuthorities[0].certChain).toEqual(
        before.certificateAuthorities[0].certChain,
      );
      expect(rootAfter.ctlogs.map((l) => [l.publicKey, l.logId])).toEqual(
        before.ctlogs.map((l) => [l.publicKey, l.logId]),
      );
    } finally {
      await second.server.close();
    }
  });
});
