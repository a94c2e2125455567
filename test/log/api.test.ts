// The Rekor v1 REST API and the tiles, over HTTP on loopback: what a client sees, checked with independent means
// (SET signature over the canonical payload, RFC 6962 proofs, checkpoint signature).
import { createPublicKey, verify } from 'node:crypto';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/crypto/index.js';
import { parseCheckpoint, parseSignedNote } from '../../src/formats/index.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/merkle/index.js';
import { hashedRekord, logPublicKey, newKey, post, startLog } from './helpers.js';

let ctx: Awaited<ReturnType<typeof startLog>>;
beforeAll(async () => {
  ctx = await startLog();
});
afterAll(async () => {
  await ctx.server.close();
});

const get = async (path: string) => {
  const res = await fetch(`${ctx.url}${path}`);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, text, headers: res.headers };
};

describe('Rekor v1 API', () => {
  it('creates entries with a valid SET, inclusion proof and signed checkpoint; conflicts on repeats', async () => {
    const logKey = await logPublicKey(ctx.url);
    const key = newKey();
    const created = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(
        ctx.url,
        '/api/v1/log/entries',
        hashedRekord(Buffer.from(`api artifact ${i}`), key),
      );
      expect(res.status).toBe(201);
      created.push(res);
    }
    const { json, headers } = created[4];
    const [id] = Object.keys(json);
    expect(id).toMatch(/^[0-9a-f]{80}$/);
    expect(headers.get('location')).toBe(`/api/v1/log/entries/${id}`);
    // As rekor's CreateLogEntryHandler: the ETag is the answer's map key; sigstore-go reads Payload[ETag].
    expect(headers.get('etag')).toBe(id);
    const entry = json[id];
    const body = Buffer.from(entry.body, 'base64');
    expect(leafHash(body).toString('hex')).toBe(id.slice(16));
    expect(JSON.parse(body.toString()).kind).toBe('hashedrekord');
    expect(entry.logID).toBe(keyId(logKey).toString('hex'));
    // SET: ECDSA over RFC 8785 canonical JSON of {body, integratedTime, logID, logIndex}.
    const payload = canonicalize({
      body: entry.body,
      integratedTime: entry.integratedTime,
      logID: entry.logID,
      logIndex: entry.logIndex,
    }) as string;
    const set = Buffer.from(entry.verification.signedEntryTimestamp, 'base64');
    expect(verify('sha256', Buffer.from(payload), logKey, set)).toBe(true);
    expect(Math.abs(entry.integratedTime - Date.now() / 1000)).toBeLessThan(60);
    const proof = entry.verification.inclusionProof;
    expect(proof.logIndex).toBe(entry.logIndex);
    expect(
      verifyInclusion(
        proof.logIndex,
        proof.treeSize,
        leafHash(body),
        proof.hashes.map((h: string) => Buffer.from(h, 'hex')),
        Buffer.from(proof.rootHash, 'hex'),
      ),
    ).toBe(true);
    const note = parseSignedNote(proof.checkpoint);
    const cp = parseCheckpoint(note.text);
    expect(cp.origin).toMatch(/^127\.0\.0\.1 - \d+$/);
    expect(cp.size).toBe(proof.treeSize);
    expect(Buffer.from(cp.rootHash).toString('hex')).toBe(proof.rootHash);
    expect(note.signatures[0].name).toBe('127.0.0.1');
    expect(Buffer.from(note.signatures[0].keyId)).toEqual(keyId(logKey).subarray(0, 4));
    expect(verify('sha256', Buffer.from(note.text), logKey, note.signatures[0].signature)).toBe(true);

    const again = await post(
      ctx.url,
      '/api/v1/log/entries',
      hashedRekord(Buffer.from('api artifact 0'), key),
    );
    expect(again.status).toBe(201); // a new signature is a new entry
    // The canonical body is itself a valid proposal of the same entry.
    const dup = await post(ctx.url, '/api/v1/log/entries', hashedRekordOf(created[0].json));
    expect(dup.status).toBe(409);
    expect(dup.json).toEqual({
      code: 409,
      message: expect.stringContaining(Object.keys(created[0].json)[0]),
    });
    expect(dup.headers.get('location')).toBe(`/api/v1/log/entries/${Object.keys(created[0].json)[0]}`);
  });

  it('reads entries by index, UUID and entry ID, in bulk, and says when they are absent', async () => {
    const key = newKey();
    const res = await post(ctx.url, '/api/v1/log/entries', hashedRekord(Buffer.from('readable'), key));
    const [id] = Object.keys(res.json);
    const index = res.json[id].logIndex;
    for (const path of [
      `/api/v1/log/entries?logIndex=${index}`,
      `/api/v1/log/entries/${id}`,
      `/api/v1/log/entries/${id.slice(16)}`,
    ]) {
      const r = await get(path);
      expect(r.status).toBe(200);
      expect(Object.keys(r.json)).toEqual([id]);
      expect(r.json[id].body).toBe(res.json[id].body);
      expect(r.json[id].verification.inclusionProof.treeSize).toBeGreaterThan(index);
    }
    expect((await get(`/api/v1/log/entries/${'0'.repeat(16)}${id.slice(16)}`)).status).toBe(404);
    expect((await get(`/api/v1/log/entries/${'ab'.repeat(32)}`)).json).toMatchObject({ code: 404 });
    expect((await get('/api/v1/log/entries?logIndex=999999')).status).toBe(404);
    const bulk = await post(ctx.url, '/api/v1/log/entries/retrieve', {
      entryUUIDs: [id, 'cd'.repeat(32)],
      logIndexes: [index, 0, 424242],
      entries: [hashedRekordOf(res.json)],
    });
    expect(bulk.status).toBe(200);
    expect(bulk.json.map((e: object) => Object.keys(e)[0])).toEqual([id, id, expect.any(String), id]);
  });

  it('serves log info, the public key, consistency proofs, checkpoint and tiles that agree', async () => {
    const logKey = await logPublicKey(ctx.url);
    const info1 = (await get('/api/v1/log')).json;
    const key = newKey();
    for (let i = 0; i < 3; i++)
      await post(ctx.url, '/api/v1/log/entries', hashedRekord(Buffer.from(`info ${i}`), key));
    const info = (await get('/api/v1/log')).json;
    expect(info).toMatchObject({
      treeSize: info1.treeSize + 3,
      treeID: expect.stringMatching(/^\d+$/),
      inactiveShards: [],
    });
    const cp = parseCheckpoint(parseSignedNote(info.signedTreeHead).text);
    expect(Buffer.from(cp.rootHash).toString('hex')).toBe(info.rootHash);
    const proof = (await get(`/api/v1/log/proof?firstSize=${info1.treeSize}&lastSize=${info.treeSize}`)).json;
    expect(proof.rootHash).toBe(info.rootHash);
    expect(
      verifyConsistency(
        info1.treeSize,
        info.treeSize,
        Buffer.from(info1.rootHash, 'hex'),
        Buffer.from(info.rootHash, 'hex'),
        proof.hashes.map((h: string) => Buffer.from(h, 'hex')),
      ),
    ).toBe(true);
    const pk = await get('/api/v1/log/publicKey');
    expect(pk.headers.get('content-type')).toContain('application/x-pem-file');
    expect(keyId(createPublicKey(pk.text))).toEqual(keyId(logKey));
    const checkpoint = await get('/tlog/checkpoint');
    expect(checkpoint.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(checkpoint.text).toBe(info.signedTreeHead);
    const n = info.treeSize;
    const tile = Buffer.from(await (await fetch(`${ctx.url}/tlog/tile/0/000.p/${n}`)).arrayBuffer());
    const bundle = Buffer.from(await (await fetch(`${ctx.url}/tlog/tile/entries/000.p/${n}`)).arrayBuffer());
    expect(tile.length).toBe(32 * n);
    const leaves: Buffer[] = [];
    for (let at = 0; at < bundle.length; ) {
      const len = bundle.readUInt16BE(at);
      leaves.push(bundle.subarray(at + 2, at + 2 + len));
      at += 2 + len;
    }
    expect(Buffer.concat(leaves.map(leafHash))).toEqual(tile);
    expect((await get('/tlog/tile/0/000')).status).toBe(404);
    expect((await get(`/tlog/tile/0/000.p/${n + 1}`)).status).toBe(404);
  });

  it('finds entries by artifact hash, public key and certificate identity', async () => {
    const key = newKey();
    const other = newKey();
    const a = await post(ctx.url, '/api/v1/log/entries', hashedRekord(Buffer.from('findable'), key));
    await post(ctx.url, '/api/v1/log/entries', hashedRekord(Buffer.from('findable too'), key));
    await post(ctx.url, '/api/v1/log/entries', hashedRekord(Buffer.from('findable'), other));
    const digest = JSON.parse(Buffer.from(a.json[Object.keys(a.json)[0]].body, 'base64').toString()).spec.data
      .hash.value;
    const byHash = await post(ctx.url, '/api/v1/index/retrieve', { hash: `sha256:${digest}` });
    expect(byHash.json).toHaveLength(2);
    expect((await post(ctx.url, '/api/v1/index/retrieve', { hash: digest.toUpperCase() })).json).toHaveLength(
      2,
    );
    const byKey = await post(ctx.url, '/api/v1/index/retrieve', {
      publicKey: { format: 'x509', content: Buffer.from(key.pem).toString('base64') },
    });
    expect(byKey.json).toHaveLength(2);
    const both = await post(ctx.url, '/api/v1/index/retrieve', {
      hash: digest,
      publicKey: { format: 'x509', content: Buffer.from(key.pem).toString('base64') },
      operator: 'and',
    });
    expect(both.json).toEqual([Object.keys(a.json)[0]]);
    expect((await post(ctx.url, '/api/v1/index/retrieve', { email: 'nobody@example.com' })).json).toEqual([]);
  });
});

function hashedRekordOf(created: Record<string, { body: string }>): unknown {
  const body = JSON.parse(Buffer.from(Object.values(created)[0].body, 'base64').toString());
  return body;
}

describe('canonical JSON', () => {
  it('matches the canonicalize package (RFC 8785) on entry-shaped values', async () => {
    const { canonicalJson } = await import('../../src/formats/rekor-entry.js');
    const values = [
      { b: 1, a: 'x', c: { z: [1, 2, { y: 'é', x: '\u2028\u0001"\\\\' }], é: 0, É: -5, '': 'empty' } },
      { integratedTime: 1_700_000_000, logIndex: 0, logID: 'ab', body: 'eyJ9' },
      [{ b: [], a: {} }, 'x', 123456789],
      { '\ud83d\ude00': 1, '\ue000': 2, aa: 3, a: 4, B: 5 },
    ];
    for (const v of values) expect(canonicalJson(v).toString()).toBe(canonicalize(v));
  });

  it('writes SET payloads in canonical form, and refuses values that would need escaping', async () => {
    const { setPayloadText } = await import('../../src/formats/index.js');
    for (const p of [
      { body: 'eyJhIjoxfQ==', integratedTime: 1_700_000_000, logID: 'c0d23d6ad406973f', logIndex: 0 },
      { body: '', integratedTime: 0, logID: '', logIndex: Number.MAX_SAFE_INTEGER },
      { body: 'a+b/c=', integratedTime: 1, logID: 'ff', logIndex: 123_456_789 },
    ]) {
      expect(setPayloadText(p)).toBe(canonicalize(p));
    }
    const ok = { body: 'eyJ9', integratedTime: 1, logID: 'ab', logIndex: 1 };
    expect(() => setPayloadText({ ...ok, body: 'a"b' })).toThrow(/base64/);
    expect(() => setPayloadText({ ...ok, logID: 'AB\\' })).toThrow(/hex/);
    expect(() => setPayloadText({ ...ok, logIndex: 1.5 })).toThrow(/safe integers/);
    expect(() => setPayloadText({ ...ok, integratedTime: 2 ** 60 })).toThrow(/safe integers/);
  });
});
