// Acknowledged data survives kill -9: every certificate the CA handed out has its precertificate entry in the
// CT log after the server process is killed without warning and started again on the same data dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { children as derChildren, parseDer } from '../../src/formats/index.js';
import { devToken, requestCert } from '../ca/helpers.js';

/** The serial number (hex) of a certificate's TBS, or of a TBS given directly. */
function serialOf(der: Buffer, isTbs = false): string {
  const tbs = isTbs ? parseDer(der) : derChildren(parseDer(der))[0];
  return Buffer.from(derChildren(tbs)[1].content).toString('hex');
}

/** RFC 6962 §3.4 MerkleTreeLeaf of a precert entry: the TBS follows 2+8+2+32 bytes and a u24 length. */
function entrySerial(leafInput: Buffer): string {
  const at = 2 + 8 + 2 + 32;
  return serialOf(leafInput.subarray(at + 3, at + 3 + leafInput.readUIntBE(at, 3)), true);
}

const root = join(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

async function serve(dataDir: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'bin/sigil.js'), 'serve', 'ca', '--data-dir', dataDir, '--port', '0'],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(proc);
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`sigil serve ca exited ${code}: ${err}`)));
  });
  return { url, proc };
}

it('keeps every acknowledged precertificate entry across kill -9', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-ct-crash-'));
  try {
    await writeFile(join(dataDir, 'ca-config.json'), JSON.stringify({ issuers: [], oidcDevMode: true }));
    const first = await serve(dataDir);
    const token = await devToken(first.url);
    const acknowledged: string[] = [];
    let killed = false;
    // Keep requests in flight while the process dies (enough of them that several write groups are on their
    // way at once): only the answered ones count as acknowledged.
    const worker = async () => {
      while (!killed) {
        try {
          const res = await requestCert(first.url, token);
          if (res.status === 200) {
            const body = (await res.json()) as {
              signedCertificateEmbeddedSct: { chain: { certificates: string[] } };
            };
            const pem = body.signedCertificateEmbeddedSct.chain.certificates[0];
            acknowledged.push(serialOf(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')));
          }
          if (acknowledged.length >= 40 && !killed) {
            killed = true;
            first.proc.kill('SIGKILL');
          }
        } catch {
          return; // connection cut by the kill
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(acknowledged.length).toBeGreaterThan(0);

    const second = await serve(dataDir);
    const res = await fetch(`${second.url}/ct/v1/get-entries?start=0&end=255`);
    const { entries } = (await res.json()) as { entries: { leaf_input: string }[] };
    // Every certificate handed out has its own precertificate entry in the log.
    const logged = new Set(entries.map((e) => entrySerial(Buffer.from(e.leaf_input, 'base64'))));
    expect(acknowledged.filter((s) => !logged.has(s))).toEqual([]);
    // Entries queued before the kill but not yet in the tree are merged after the restart.
    let size = 0;
    for (let i = 0; i < 200 && size < entries.length; i++) {
      size = ((await (await fetch(`${second.url}/ct/v1/get-sth`)).json()) as { tree_size: number }).tree_size;
      if (size < entries.length) await new Promise((r) => setTimeout(r, 25));
    }
    expect(size).toBe(entries.length);
    second.proc.kill('SIGTERM');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
