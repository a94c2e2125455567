// The real rekor-cli (sigstore/rekor cmd/rekor-cli, installed by scripts/peers.sh) against sigil's transparency
// log: entries made by `sigil sign`, `sigil sign-blob` (keyless and with a key) and by `rekor-cli upload` itself are
// read back (get), proven (verify: inclusion proof, SET and checkpoint signature against a pinned log key), found
// (search by artifact digest, public key, certificate) and the log's signed tree head is checked and proven
// consistent between runs (loginfo). Each claim is checked against something rekor-cli cannot take from sigil on
// trust: the artifact's own digest, the log key in trusted_root.json, a leaf hash computed here.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePeer, type PeerStack, REPOSITORY, runPeer, said, startPeerStack } from './peers.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const pem = (der: Buffer, label: string) =>
  `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)
    ?.join('\n')}\n-----END ${label}-----\n`;

/** The index `sigil sign`/`sign-blob` printed ("tlog entry created with index: N", cosign's wording). */
function createdIndex(output: string): number {
  const m = /tlog entry created with index: (\d+)/.exec(output);
  if (!m) throw new Error(`no log index in:\n${output}`);
  return Number(m[1]);
}

describePeer('rekor-cli', "rekor-cli against sigil's transparency log", (bin) => {
  let stack: PeerStack;
  /** HOME is the stack's scratch dir, so rekor-cli's tree state (~/.rekor/state.json) starts empty. */
  let env: NodeJS.ProcessEnv;
  let logIdHex: string;
  let treeIdHex: string;

  const image = { ref: '', index: 0, payloadSha: '' };
  const keyless = { file: '', sha: '', index: 0, cert: '' };
  /** `sig` is the DER signature: sign-blob writes it base64-encoded (as cosign does), rekor-cli reads raw bytes. */
  const keyed = { file: '', sig: '', pub: '', key: '', sha: '', index: 0 };

  const rekor = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    runPeer(bin, [...args, '--rekor_server', stack.url], { ...env, ...extra });

  /** The entry ID sigil must answer with: the tree ID and the RFC 6962 leaf hash of the body it serves. */
  async function expectedEntryId(index: number): Promise<string> {
    const res = await fetch(`${stack.url}/api/v1/log/entries?logIndex=${index}`);
    expect(res.status).toBe(200);
    const [entry] = Object.values((await res.json()) as Record<string, { body: string }>);
    const leaf = createHash('sha256')
      .update(Buffer.from([0]))
      .update(Buffer.from(entry.body, 'base64'))
      .digest('hex');
    return treeIdHex + leaf;
  }

  beforeAll(async () => {
    stack = await startPeerStack();
    const root = JSON.parse(await readFile(stack.trustedRoot, 'utf8')) as {
      tlogs: { logId: { keyId: string } }[];
    };
    logIdHex = Buffer.from(root.tlogs[0].logId.keyId, 'base64').toString('hex');
    // rekor-cli v1.5.4 has no flag for the log key: it reads viper's `rekor_server_public_key` (env prefix
    // "rekor", cmd/rekor-cli/app/log_info.go loadVerifier), and fetches /api/v1/log/publicKey without it. Pin it.
    env = { ...stack.env, REKOR_REKOR_SERVER_PUBLIC_KEY: await readFile(stack.pem.rekorKey, 'utf8') };
    const info = (await (await fetch(`${stack.url}/api/v1/log`)).json()) as { treeID: string };
    treeIdHex = BigInt(info.treeID).toString(16).padStart(16, '0');

    // An image signed keylessly, as the CI job does: its log entry is a hashedrekord over cosign's
    // simple-signing payload, whose bytes (and so digest) are fixed by the image reference and digest.
    image.ref = await stack.pushImage('rekor-cli', 'an image for rekor-cli');
    const signed = await stack.sigil(['sign', '--yes', image.ref], stack.env);
    expect(signed.code, said(signed)).toBe(0);
    image.index = createdIndex(signed.output);
    const [repo, digest] = image.ref.split('@');
    image.payloadSha = sha256(
      `{"critical":{"identity":{"docker-reference":"${repo}"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":null}`,
    );

    // A blob signed keylessly; the bundle holds the workflow's certificate.
    keyless.file = join(stack.work, 'keyless.txt');
    await writeFile(keyless.file, `a keyless blob ${randomBytes(8).toString('hex')}\n`);
    keyless.sha = sha256(await readFile(keyless.file));
    const bundlePath = join(stack.work, 'keyless.bundle');
    const blob = await stack.sigil(['sign-blob', '--yes', '--bundle', bundlePath, keyless.file], stack.env);
    expect(blob.code, said(blob)).toBe(0);
    keyless.index = createdIndex(blob.output);
    const bundle = JSON.parse(await readFile(bundlePath, 'utf8')) as {
      verificationMaterial: { certificate: { rawBytes: string } };
    };
    keyless.cert = pem(
      Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64'),
      'CERTIFICATE',
    );

    // A blob signed with a cosign key pair (cosign.key format, encrypted with the empty COSIGN_PASSWORD).
    const prefix = join(stack.work, 'ci');
    const keyEnv = { ...stack.env, COSIGN_PASSWORD: '' };
    const gen = await stack.sigil(['generate-key-pair', '--output-key-prefix', prefix], keyEnv);
    expect(gen.code, said(gen)).toBe(0);
    keyed.key = `${prefix}.key`;
    keyed.pub = `${prefix}.pub`;
    keyed.file = join(stack.work, 'keyed.txt');
    keyed.sig = join(stack.work, 'keyed.sig');
    await writeFile(keyed.file, `a key-signed blob ${randomBytes(8).toString('hex')}\n`);
    keyed.sha = sha256(await readFile(keyed.file));
    const k = await stack.sigil(
      ['sign-blob', '--yes', '--key', keyed.key, '--output-signature', `${keyed.sig}.b64`, keyed.file],
      keyEnv,
    );
    expect(k.code, said(k)).toBe(0);
    keyed.index = createdIndex(k.output);
    await writeFile(keyed.sig, Buffer.from(await readFile(`${keyed.sig}.b64`, 'utf8'), 'base64'));
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('get --log-index prints the entry, its UUID and its body after checking SET and inclusion proof', async () => {
    const r = await rekor(['get', '--log-index', String(keyless.index)]);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout).toContain(`LogID: ${logIdHex}`);
    expect(r.stdout).toContain(`Index: ${keyless.index}`);
    expect(r.stdout).toContain(`UUID: ${await expectedEntryId(keyless.index)}`);
    expect(r.stdout).toContain('"HashedRekordObj"');
    expect(r.stdout).toContain(`"value": "${keyless.sha}"`);
  });

  it('get --uuid --format json returns the same entry, by entry ID and by bare UUID', async () => {
    const id = await expectedEntryId(keyless.index);
    for (const uuid of [id, id.slice(16)]) {
      const r = await rekor(['get', '--uuid', uuid, '--format', 'json']);
      expect(r.code, said(r)).toBe(0);
      const out = JSON.parse(r.stdout) as {
        UUID: string;
        LogIndex: number;
        LogID: string;
        Body: {
          HashedRekordObj: {
            data: { hash: { algorithm: string; value: string } };
            signature: { publicKey: { content: string } };
          };
        };
      };
      expect(out.UUID).toBe(id);
      expect(out.LogIndex).toBe(keyless.index);
      expect(out.LogID).toBe(logIdHex);
      expect(out.Body.HashedRekordObj.data.hash).toEqual({ algorithm: 'sha256', value: keyless.sha });
      // The signer's certificate, as the bundle holds it.
      const cert = Buffer.from(out.Body.HashedRekordObj.signature.publicKey.content, 'base64').toString();
      expect(cert.replace(/\s/g, '')).toBe(keyless.cert.replace(/\s/g, ''));
    }
  });

  it('get of an index or UUID not in the log fails with 404', async () => {
    const byIndex = await rekor(['get', '--log-index', '999999']);
    expect(byIndex.code, said(byIndex)).not.toBe(0);
    expect(byIndex.stderr).toContain('getLogEntryByIndexNotFound');
    const byUuid = await rekor(['get', '--uuid', randomBytes(32).toString('hex')]);
    expect(byUuid.code, said(byUuid)).not.toBe(0);
    expect(byUuid.stderr).toContain('getLogEntryByUuidNotFound');
  });

  it('verify --log-index and --uuid prove inclusion of the image signature entry', async () => {
    const id = await expectedEntryId(image.index);
    for (const args of [
      ['--log-index', String(image.index)],
      ['--uuid', id],
      ['--uuid', id.slice(16)],
    ]) {
      const r = await rekor(['verify', ...args]);
      expect(r.code, said(r)).toBe(0);
      expect(r.stdout).toContain(`Entry Hash: ${id.slice(16)}`);
      expect(r.stdout).toContain(`Entry Index in Current Tree: ${image.index}`);
      const computed = /Computed Root Hash: ([0-9a-f]{64})/.exec(r.stdout)?.[1];
      const expected = /Expected Root Hash: ([0-9a-f]{64})/.exec(r.stdout)?.[1];
      expect(computed, said(r)).toBeDefined();
      expect(computed).toBe(expected);
    }
    const json = await rekor(['verify', '--log-index', String(image.index), '--format', 'json']);
    expect(json.code, said(json)).toBe(0);
    const out = JSON.parse(json.stdout) as { EntryUUID: string; Index: number; Checkpoint: string };
    expect(out.EntryUUID).toBe(id);
    expect(out.Index).toBe(image.index);
    expect(out.Checkpoint).toMatch(/^127\.0\.0\.1 - \d+\n\d+\n/);
  });

  it('verify --artifact --signature --public-key finds the key-signed entry by its content', async () => {
    const r = await rekor([
      'verify',
      '--artifact',
      keyed.file,
      '--signature',
      keyed.sig,
      '--public-key',
      keyed.pub,
    ]);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout).toContain(`Entry Index in Current Tree: ${keyed.index}`);
  });

  it('verify of a UUID that is not in the log fails', async () => {
    const r = await rekor(['verify', '--uuid', randomBytes(32).toString('hex')]);
    expect(r.code, said(r)).not.toBe(0);
    expect(r.stderr).toContain('entry in log cannot be located');
  });

  it('get and verify reject the log when pinned to a key that is not the log key', async () => {
    const wrong = { REKOR_REKOR_SERVER_PUBLIC_KEY: await readFile(keyed.pub, 'utf8') };
    const get = await rekor(['get', '--log-index', String(keyless.index)], wrong);
    expect(get.code, said(get)).not.toBe(0);
    expect(get.stderr).toContain(
      'unable to verify entry was added to log: signature on checkpoint did not verify',
    );
    const verify = await rekor(['verify', '--log-index', String(keyless.index)], wrong);
    expect(verify.code, said(verify)).not.toBe(0);
    expect(verify.stderr).toContain('validating entry: signature on checkpoint did not verify');
  });

  it('search --sha and --artifact find the entries of an artifact digest', async () => {
    const imageHit = await rekor(['search', '--sha', image.payloadSha, '--format', 'json']);
    expect(imageHit.code, said(imageHit)).toBe(0);
    expect(JSON.parse(imageHit.stdout)).toEqual({ UUIDs: [await expectedEntryId(image.index)] });

    const prefixed = await rekor(['search', '--sha', `sha256:${keyless.sha}`]);
    expect(prefixed.code, said(prefixed)).toBe(0);
    expect(prefixed.stdout.trim().split('\n')).toEqual([await expectedEntryId(keyless.index)]);

    const byFile = await rekor(['search', '--artifact', keyed.file]);
    expect(byFile.code, said(byFile)).toBe(0);
    expect(byFile.stdout.trim().split('\n')).toEqual([await expectedEntryId(keyed.index)]);
  });

  it('search --public-key finds entries by signing key and by the keyless certificate', async () => {
    const byKey = await rekor(['search', '--public-key', keyed.pub, '--format', 'json']);
    expect(byKey.code, said(byKey)).toBe(0);
    expect((JSON.parse(byKey.stdout) as { UUIDs: string[] }).UUIDs).toEqual([
      await expectedEntryId(keyed.index),
    ]);

    // A GitHub workflow certificate names the workflow in a URI SAN and carries no email, so rekor-cli's
    // identity search (--email) cannot reach it; the certificate itself is the search key.
    const certFile = join(stack.work, 'keyless-cert.pem');
    await writeFile(certFile, keyless.cert);
    const byCert = await rekor(['search', '--public-key', certFile, '--pki-format', 'x509']);
    expect(byCert.code, said(byCert)).toBe(0);
    expect(byCert.stdout.trim().split('\n')).toEqual([await expectedEntryId(keyless.index)]);

    // The workflow identity through the index API (sigil's `subject` criterion; Rekor indexes URI SANs too
    // but its openapi.yaml SearchIndex has only email): both keyless entries, the key-signed one not.
    const res = await fetch(`${stack.url}/api/v1/index/retrieve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        subject: `https://github.com/${REPOSITORY}/.github/workflows/docker-publish.yml@refs/heads/main`,
      }),
    });
    expect(res.status).toBe(200);
    const ids = (await res.json()) as string[];
    expect(ids).toContain(await expectedEntryId(image.index));
    expect(ids).toContain(await expectedEntryId(keyless.index));
    expect(ids).not.toContain(await expectedEntryId(keyed.index));
  });

  it('search with no match exits non-zero saying so, as against Rekor', async () => {
    for (const args of [
      ['--email', 'nobody@example.com'],
      ['--sha', '0'.repeat(64)],
      // "and" of two criteria that each match a different entry.
      ['--sha', keyless.sha, '--public-key', keyed.pub, '--operator', 'and'],
    ]) {
      const r = await rekor(['search', ...args]);
      expect(r.code, said(r)).not.toBe(0);
      expect(r.stderr).toContain('no matching entries found');
      expect(r.stdout).toBe('');
    }
    const or = await rekor(['search', '--sha', keyless.sha, '--public-key', keyed.pub, '--operator', 'or']);
    expect(or.code, said(or)).toBe(0);
    expect(or.stdout.trim().split('\n').sort()).toEqual(
      [await expectedEntryId(keyless.index), await expectedEntryId(keyed.index)].sort(),
    );
  });

  it('upload creates hashedrekord and dsse entries that sigil serves; a second upload finds the first', async () => {
    // An artifact signed outside sigil: an ECDSA P-256 key and an ASN.1 signature over the file.
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = join(stack.work, 'uploaded.txt');
    const sigFile = join(stack.work, 'uploaded.sig');
    const pubFile = join(stack.work, 'uploaded.pub');
    const content = Buffer.from(`uploaded by rekor-cli ${randomBytes(8).toString('hex')}\n`);
    await writeFile(file, content);
    await writeFile(sigFile, sign('sha256', content, keys.privateKey));
    await writeFile(pubFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));

    const up = await rekor(['upload', '--artifact', file, '--signature', sigFile, '--public-key', pubFile]);
    expect(up.code, said(up)).toBe(0);
    const m = /Created entry at index (\d+), available at: (\S+)\/api\/v1\/log\/entries\/([0-9a-f]{80})/.exec(
      up.stdout,
    );
    expect(m, said(up)).not.toBeNull();
    const [, index, base, id] = m as RegExpExecArray;
    expect(base).toBe(stack.url);
    expect(id).toBe(await expectedEntryId(Number(index)));

    const got = await stack.sigil(['log', 'get', '--log-index', index]);
    expect(got.code, said(got)).toBe(0);
    expect(got.stdout).toContain(`UUID: ${id}`);
    expect(got.stdout).toContain(sha256(content));

    const again = await rekor([
      'upload',
      '--artifact',
      file,
      '--signature',
      sigFile,
      '--public-key',
      pubFile,
    ]);
    expect(again.code, said(again)).toBe(0);
    expect(again.stdout).toContain(
      `Entry already exists; available at: ${stack.url}/api/v1/log/entries/${id}`,
    );

    // A signature that does not match the artifact is refused by the log (400), not logged. rekor-cli checks
    // it before uploading from --artifact, so the proposed entry goes in as a file (--entry sends it as is).
    const entryFile = join(stack.work, 'bad-entry.json');
    await writeFile(
      entryFile,
      JSON.stringify({
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: { hash: { algorithm: 'sha256', value: sha256(content) } },
          signature: {
            content: sign('sha256', Buffer.from('something else'), keys.privateKey).toString('base64'),
            publicKey: { content: Buffer.from(await readFile(pubFile)).toString('base64') },
          },
        },
      }),
    );
    const bad = await rekor(['upload', '--entry', entryFile]);
    expect(bad.code, said(bad)).not.toBe(0);
    expect(bad.stderr).toContain('createLogEntryBadRequest');
    expect(bad.stderr).toContain('signature');

    // A DSSE envelope signed by `sigil attest-blob --key` without uploading it, then uploaded by rekor-cli.
    const predicate = join(stack.work, 'predicate.json');
    const envelope = join(stack.work, 'envelope.json');
    await writeFile(predicate, '{"built":"by rekor-cli test"}');
    const att = await stack.sigil(
      [
        'attest-blob',
        '--yes',
        '--key',
        keyed.key,
        '--predicate',
        predicate,
        '--tlog-upload=false',
        '--output-signature',
        envelope,
        file,
      ],
      { ...stack.env, COSIGN_PASSWORD: '' },
    );
    expect(att.code, said(att)).toBe(0);
    const dsse = await rekor(['upload', '--type', 'dsse', '--artifact', envelope, '--public-key', keyed.pub]);
    expect(dsse.code, said(dsse)).toBe(0);
    const dsseIndex = /Created entry at index (\d+)/.exec(dsse.stdout)?.[1];
    expect(dsseIndex, said(dsse)).toBeDefined();
    const dsseGet = await rekor(['get', '--log-index', String(dsseIndex), '--format', 'json']);
    expect(dsseGet.code, said(dsseGet)).toBe(0);
    const body = (JSON.parse(dsseGet.stdout) as { Body: { DSSEObj: { payloadHash: { value: string } } } })
      .Body;
    const payload = (JSON.parse(await readFile(envelope, 'utf8')) as { payload: string }).payload;
    expect(body.DSSEObj.payloadHash.value).toBe(sha256(Buffer.from(payload, 'base64')));
  });

  it('loginfo verifies the signed tree head and, on the next run, its consistency with the stored one', async () => {
    const first = await rekor(['loginfo', '--format', 'json']);
    expect(first.code, said(first)).toBe(0);
    const info = (await (await fetch(`${stack.url}/api/v1/log`)).json()) as {
      treeSize: number;
      rootHash: string;
      treeID: string;
    };
    const out = JSON.parse(first.stdout) as { ActiveTreeSize: number; RootHash: string; TreeID: string };
    expect(out).toMatchObject({
      ActiveTreeSize: info.treeSize,
      RootHash: info.rootHash,
      TreeID: info.treeID,
    });

    // Grow the log, then loginfo again: rekor-cli now asks for a consistency proof from the stored size.
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = join(stack.work, 'grow.txt');
    const content = Buffer.from(`grow ${randomBytes(8).toString('hex')}`);
    await writeFile(file, content);
    await writeFile(`${file}.sig`, sign('sha256', content, keys.privateKey));
    await writeFile(`${file}.pub`, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const up = await rekor([
      'upload',
      '--artifact',
      file,
      '--signature',
      `${file}.sig`,
      '--public-key',
      `${file}.pub`,
    ]);
    expect(up.code, said(up)).toBe(0);

    const second = await rekor(['loginfo']);
    expect(second.code, said(second)).toBe(0);
    expect(second.stdout).toContain('Verification Successful!');
    expect(second.stdout).toContain(`Active Tree Size:       ${info.treeSize + 1}`);
    expect(second.stderr).not.toContain('No previous log state stored');

    // A stored tree head whose root does not belong to this log's history: the proof sigil sends cannot
    // connect it to the current one, so loginfo fails.
    const statePath = join(stack.work, '.rekor', 'state.json');
    const state = JSON.parse(await readFile(statePath, 'utf8')) as Record<string, string>;
    const forged = Object.fromEntries(
      Object.entries(state).map(([k, note]) => {
        const lines = note.split('\n');
        lines[1] = String(info.treeSize);
        lines[2] = createHash('sha256').update('not this log').digest('base64');
        return [k, lines.join('\n')];
      }),
    );
    await writeFile(statePath, JSON.stringify(forged));
    const third = await rekor(['loginfo']);
    expect(third.code, said(third)).not.toBe(0);
    expect(third.stderr).toContain('does not match expected root');
  });

  it('logproof prints a consistency proof ending at the current root', async () => {
    const info = (await (await fetch(`${stack.url}/api/v1/log`)).json()) as {
      treeSize: number;
      rootHash: string;
    };
    const r = await rekor(['logproof', '--first-size', '1', '--last-size', String(info.treeSize)]);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout).toContain(`Current Root Hash: ${info.rootHash}`);
    const beyond = await rekor(['logproof', '--first-size', '1', '--last-size', String(info.treeSize + 10)]);
    expect(beyond.code, said(beyond)).not.toBe(0);
    expect(beyond.stderr).toContain('getLogProofBadRequest');
  });
});
