// `sigil log` (rekor-cli's get / verify / search / loginfo) against the sigil transparency log on loopback, with
// its answers checked against the trusted root: SETs, inclusion proofs, signed checkpoints, and consistency with
// the last checkpoint remembered in the trust dir. Negative cases: a log the trusted root does not name, a
// remembered checkpoint the log is not consistent with, and malformed flags.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken, type Stack, sigil, startLogOnly, startStack, tempDir } from '../sign/helpers.js';

describe('sigil log verbs', () => {
  let stack: Stack;
  let home: string;
  let bundle: {
    verificationMaterial: { tlogEntries: { logIndex: string }[]; certificate: { rawBytes: string } };
  };
  const env = () => ({ SIGIL_HOME: home });

  beforeAll(async () => {
    stack = await startStack();
    home = await tempDir();
    expect((await sigil(['initialize', '--root', stack.url], env())).code).toBe(0);
    const token = await devToken(stack.url);
    await writeFile(join(home, 'a.txt'), 'artifact A\n');
    await writeFile(join(home, 'b.txt'), 'artifact B\n');
    for (const f of ['a', 'b']) {
      const r = await sigil(
        [
          'sign-blob',
          '--yes',
          '--identity-token',
          token,
          '--bundle',
          join(home, `${f}.json`),
          join(home, `${f}.txt`),
        ],
        env(),
      );
      expect(r.code, r.stderr).toBe(0);
    }
    bundle = JSON.parse(await readFile(join(home, 'a.json'), 'utf8'));
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('info verifies the signed tree head and remembers it', async () => {
    const r = await sigil(['log', 'info'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^Verification Successful!\nActive Tree Size: +\d+\nTotal Tree Size: +\d+\nRoot Hash: +[0-9a-f]{64}\nTreeID: +\S+\n$/,
    );
    const state = JSON.parse(await readFile(join(home, 'log_state.json'), 'utf8'));
    const [only] = Object.values(state) as { treeSize: number }[];
    expect(only.treeSize).toBeGreaterThanOrEqual(2);
    const json = await sigil(['log', 'loginfo', '--format', 'json'], env());
    expect(JSON.parse(json.stdout).ActiveTreeSize).toBe(only.treeSize);
  });

  it('get prints rekor-cli fields, by index and by UUID', async () => {
    const index = bundle.verificationMaterial.tlogEntries[0].logIndex;
    const r = await sigil(['log', 'get', '--log-index', index], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^LogID: [0-9a-f]{64}\\nIndex: ${index}\\nIntegratedTime: \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\nUUID: [0-9a-f]{64,80}\\nBody: \\{`,
      ),
    );
    const body = JSON.parse(r.stdout.slice(r.stdout.indexOf('Body: ') + 6));
    expect(body.HashedRekordObj.data.hash.algorithm).toBe('sha256');
    const uuid = /UUID: (\S+)/.exec(r.stdout)![1];
    const byUuid = await sigil(['log', 'get', '--uuid', uuid, '--format', 'json'], env());
    expect(byUuid.code, byUuid.stderr).toBe(0);
    expect(JSON.parse(byUuid.stdout)).toMatchObject({ LogIndex: Number(index), UUID: uuid });
  });

  // The lines the real rekor-cli verify prints (test/peers/rekor-cli.test.ts checks it prints the same).
  it('verify prints rekor-cli lines and checks the proof against a fresh checkpoint', async () => {
    const index = bundle.verificationMaterial.tlogEntries[0].logIndex;
    const r = await sigil(['log', 'verify', '--log-index', index], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^Current Root Hash: ([0-9a-f]{64})\\nEntry Hash: [0-9a-f]{64}\\nEntry Index in Current Tree: ${index}\\nCurrent Tree Size: \\d+\\nCheckpoint:\\n`,
      ),
    );
    expect(r.stdout).toContain('\n\nInclusion Proof:\n');
    expect(r.stdout).toMatch(/\nComputed Root Hash: ([0-9a-f]{64})\nExpected Root Hash: \1\n$/);
    expect(r.stderr).toContain("Consistent with the log's current checkpoint");
  });

  it('logproof prints the consistency proof as rekor-cli does, and checks its sizes', async () => {
    const r = await sigil(['log', 'logproof', '--first-size', '1', '--last-size', '2'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Current Root Hash: [0-9a-f]{64}\nHashes: \[[0-9a-f]{64}(,[0-9a-f]{64})*\]\n$/);
    const json = JSON.parse(
      (await sigil(['log', 'logproof', '--last-size', '2', '--format', 'json'], env())).stdout,
    );
    expect(json.Hashes.length).toBeGreaterThan(0);
    const backwards = await sigil(['log', 'logproof', '--first-size', '2', '--last-size', '1'], env());
    expect(backwards.code).toBe(1);
    expect(backwards.stderr).toBe('Error: last-size must be >= to first-size\n');
  });

  it('--rekor_server and REKOR_REKOR_SERVER name the log as in rekor-cli', async () => {
    const bad = 'http://127.0.0.1:1';
    const flag = await sigil(['log', 'info', '--rekor_server', bad], env());
    expect(flag.code).toBe(1);
    expect(flag.stderr).toContain('cannot reach http://127.0.0.1:1');
    const fromEnv = await sigil(['log', 'info'], { ...env(), REKOR_REKOR_SERVER: bad });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toContain('cannot reach http://127.0.0.1:1');
    const good = await sigil(['log', 'info', '--rekor_server', stack.url], {
      ...env(),
      REKOR_REKOR_SERVER: bad,
    });
    expect(good.code, good.stderr).toBe(0);
  });

  it('upload adds a hashedrekord entry from artifact, signature and public key', async () => {
    const { generateKeyPairSync, sign } = await import('node:crypto');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const data = Buffer.from('uploaded artifact\n');
    await writeFile(join(home, 'up.txt'), data);
    await writeFile(join(home, 'up.sig'), sign('sha256', data, privateKey).toString('base64'));
    await writeFile(join(home, 'up.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const args = ['log', 'upload', '--artifact', join(home, 'up.txt'), '--signature', join(home, 'up.sig')];
    const r = await sigil([...args, '--public-key', join(home, 'up.pub')], env());
    expect(r.code, r.stderr).toBe(0);
    const m =
      /^Created entry at index (\d+), available at: (\S+)\/api\/v1\/log\/entries\/([0-9a-f]+)\n$/.exec(
        r.stdout,
      );
    expect(m, r.stdout).not.toBeNull();
    const got = await sigil(['log', 'get', '--log-index', m![1], '--format', 'json'], env());
    expect(JSON.parse(got.stdout).UUID).toBe(m![3]);
    const rekord = await sigil([...args, '--public-key', join(home, 'up.pub'), '--type', 'rekord'], env());
    expect(rekord.code).toBe(1);
    expect(rekord.stderr).toContain('pass --type hashedrekord');
    // A signature that does not verify is refused by the log.
    const wrong = await sigil(
      [
        'log',
        'upload',
        '--artifact',
        join(home, 'a.txt'),
        '--signature',
        join(home, 'up.sig'),
        '--public-key',
        join(home, 'up.pub'),
      ],
      env(),
    );
    expect(wrong.code).toBe(1);
  });

  it('search finds entries by digest, artifact and signer certificate', async () => {
    const { createHash } = await import('node:crypto');
    const hex = createHash('sha256').update('artifact A\n').digest('hex');
    const bySha = await sigil(['log', 'search', '--sha', `sha256:${hex}`], env());
    expect(bySha.code, bySha.stderr).toBe(0);
    expect(bySha.stderr).toBe('Found matching entries (listed by UUID):\n');
    const uuids = bySha.stdout.trim().split('\n');
    expect(uuids).toHaveLength(1);
    const byArtifact = await sigil(['log', 'search', '--artifact', join(home, 'a.txt')], env());
    expect(byArtifact.stdout.trim()).toBe(uuids[0]);
    const der = Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64');
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
    await writeFile(join(home, 'cert.pem'), pem);
    const byKey = await sigil(['log', 'search', '--public-key', join(home, 'cert.pem')], env());
    expect(byKey.code, byKey.stderr).toBe(0);
    expect(byKey.stdout).toContain(uuids[0]);
    // rekor-cli search: no match is an error (cmd/rekor-cli/app/search.go).
    const none = await sigil(['log', 'search', '--sha', 'f'.repeat(64)], env());
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe('Error: no matching entries found\n');
    const json = await sigil(['log', 'search', '--sha', `sha256:${hex}`, '--format', 'json'], env());
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toEqual({ UUIDs: uuids });
  });

  it('refuses a log the trusted root does not name', async () => {
    const other = await startLogOnly();
    try {
      const r = await sigil(['log', 'info', '--rekor-server', other.url], env());
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('carries no valid signature by a log in the trusted root');
    } finally {
      await other.stop();
    }
  });

  it('refuses a log that is not consistent with the checkpoint it showed before', async () => {
    const dir = await tempDir();
    const { copyFile } = await import('node:fs/promises');
    await copyFile(join(home, 'trusted_root.json'), join(dir, 'trusted_root.json'));
    await copyFile(join(home, 'signing_config.json'), join(dir, 'signing_config.json'));
    const state = JSON.parse(await readFile(join(home, 'log_state.json'), 'utf8'));
    for (const v of Object.values(state) as { treeSize: number; rootHash: string }[]) {
      v.treeSize = 1;
      v.rootHash = 'ab'.repeat(32);
    }
    await writeFile(join(dir, 'log_state.json'), JSON.stringify(state));
    const r = await sigil(['log', 'info'], { SIGIL_HOME: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('the log is not consistent');
  });

  it('says what is wrong with malformed flags', async () => {
    const both = await sigil(['log', 'get', '--log-index', '1', '--uuid', 'ab'], env());
    expect(both.stderr).toContain('give exactly one of --log-index or --uuid');
    const bad = await sigil(['log', 'get', '--log-index', 'x'], env());
    expect(bad.stderr).toContain('--log-index must be a non-negative integer');
    const uuid = await sigil(['log', 'get', '--uuid', 'nothex'], env());
    expect(uuid.stderr).toContain('is not a Rekor entry UUID');
    const missing = await sigil(['log', 'get', '--log-index', '999999'], env());
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/log entry 999999: .* answered 404/);
    const nothing = await sigil(['log', 'search'], env());
    expect(nothing.stderr).toContain(
      "either 'sha' or 'artifact' or 'public-key' or 'email' must be specified",
    );
  });
});
