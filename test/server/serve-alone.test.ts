// `sigil serve ct` and `sigil serve oidc` each run alone (bin/sigil.js over dist/, as users run it), on a data dir
// of their own, and answer their wire API: the CT log its signed tree head and a refusal of add-chain, the CI
// issuer its discovery document and JWKS.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const running: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const c of running) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Starts `sigil serve <name>` on a fresh data dir and port 0; resolves with the URL it prints. */
async function serve(name: string): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), `sigil-serve-${name}-`));
  dirs.push(dataDir);
  const proc = spawn(
    process.execPath,
    [join(root, 'bin/sigil.js'), 'serve', name, '--data-dir', dataDir, '--port', '0', '--log-level', 'warn'],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  running.push(proc);
  return new Promise<string>((resolve, reject) => {
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`sigil serve ${name} exited ${code}: ${err}`)));
  });
}

describe('services that run alone', () => {
  it('sigil serve ct: the CT log answers get-sth and refuses add-chain and garbage', async () => {
    const url = await serve('ct');
    const health = (await (await fetch(`${url}/healthz`)).json()) as { services: string[] };
    expect(health.services).toEqual(['ct']);
    const sth = await fetch(`${url}/ct/v1/get-sth`);
    expect(sth.status).toBe(200);
    const head = (await sth.json()) as { tree_size: number; sha256_root_hash: string };
    expect(head.tree_size).toBe(0);
    expect(Buffer.from(head.sha256_root_hash, 'base64')).toHaveLength(32);
    const addChain = await fetch(`${url}/ct/v1/add-chain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chain: ['AAAA'] }),
    });
    expect(addChain.status).toBe(400);
    const garbage = await fetch(`${url}/ct/v1/add-pre-chain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chain: ['bm90IGEgY2VydGlmaWNhdGU=', 'AAAA'] }),
    });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { success: boolean }).success).toBe(false);
    // The CA is not here: its API is not served.
    expect((await fetch(`${url}/api/v2/configuration`)).status).toBe(404);
  });

  it('sigil serve oidc: the CI issuer answers discovery and JWKS', async () => {
    const url = await serve('oidc');
    const discovery = await fetch(`${url}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const doc = (await discovery.json()) as { issuer: string; jwks_uri: string };
    expect(doc.issuer).toBe(url);
    const jwks = await fetch(doc.jwks_uri);
    expect(jwks.status).toBe(200);
    const { keys } = (await jwks.json()) as { keys: { kid: string; kty: string }[] };
    expect(keys.length).toBeGreaterThan(0);
    expect(keys[0].kid).toBeTruthy();
    expect((await fetch(`${url}/ct/v1/get-sth`)).status).toBe(404);
  });
});
