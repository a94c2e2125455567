// The CT log: the durable entry queue survives a restart and a torn tail, add-pre-chain checks the chain and
// returns an SCT that verifies against the log key over the RFC 6962 §3.2 structure, and get-entries / get-roots
// return what was logged. Precertificates are made here by re-signing an issued certificate's TBS with the
// poison extension in place of the SCT list, using the CA's intermediate key from the data dir.
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, localSigner } from '../../src/crypto/index.js';
import {
  CtTree,
  InlineTree,
  openFileEntryStore,
  recordLeaf,
  treeHeadSignedData,
} from '../../src/ct/index.js';
import {
  bitString,
  boolean,
  children,
  explicit,
  NULL,
  octetString,
  oid,
  parseCertificate,
  parseDer,
  precertSignedData,
  seq,
} from '../../src/formats/index.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/merkle/index.js';
import { logStorage } from '../../src/server/index.js';
import { devToken, type RunningCa, requestCert, startCa } from '../ca/helpers.js';

let ca: RunningCa;
let chainDer: Buffer[];

const pemDer = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');

beforeAll(async () => {
  ca = await startCa();
  const res = await requestCert(ca.url, await devToken(ca.url));
  const body = (await res.json()) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } };
  chainDer = body.signedCertificateEmbeddedSct.chain.certificates.map(pemDer);
});
afterAll(() => ca.stop());

/** The issued certificate turned back into a precertificate: SCT list swapped for poison, re-signed. */
async function makePrecert(extraPoison = true): Promise<Buffer> {
  const leaf = parseCertificate(chainDer[0]);
  const kept = leaf.extensions.filter((e) => e.oid !== '1.3.6.1.4.1.11129.2.4.2').map((e) => e.raw);
  if (extraPoison) kept.push(seq(oid('1.3.6.1.4.1.11129.2.4.3'), boolean(true), octetString(NULL)));
  const fields = leaf.tbsFields.filter((f) => f.tag !== 0xa3).map((f) => f.raw);
  const tbs = seq(...fields, explicit(3, seq(...kept)));
  const key = createPrivateKey(await readFile(join(ca.dataDir, 'ca', 'intermediate-key.pem'), 'utf8'));
  const alg = children(parseDer(chainDer[0]))[1].raw;
  return seq(tbs, alg, bitString(sign('sha256', tbs, key)));
}

async function addPreChain(chain: Buffer[] | unknown) {
  const res = await fetch(`${ca.url}/ct/v1/add-pre-chain`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      chain: Array.isArray(chain) ? chain.map((c) => Buffer.from(c).toString('base64')) : chain,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('CT log over HTTP', () => {
  it('accepts a precertificate chain and returns a verifiable SCT', async () => {
    const precert = await makePrecert();
    const { status, body } = await addPreChain([precert, chainDer[1], chainDer[2]]);
    expect(status).toBe(200);
    const ctKey = createPublicKey(await readFile(join(ca.dataDir, 'ct', 'ct-key.pem'), 'utf8'));
    const logId = createHash('sha256')
      .update(ctKey.export({ type: 'spki', format: 'der' }))
      .digest();
    expect(body.sct_version).toBe(0);
    expect(body.id).toBe(logId.toString('base64'));
    expect(body.extensions).toBe('');
    const sig = Buffer.from(String(body.signature), 'base64');
    expect([sig[0], sig[1]]).toEqual([4, 3]); // sha256, ecdsa
    expect(sig.readUInt16BE(2)).toBe(sig.length - 4);
    // RFC 6962 §3.2 over the TBS without poison: identical to the issued certificate's TBS without its SCTs.
    const leaf = parseCertificate(chainDer[0]);
    const tbsNoSct = seq(
      ...leaf.tbsFields.filter((f) => f.tag !== 0xa3).map((f) => f.raw),
      explicit(
        3,
        seq(...leaf.extensions.filter((e) => e.oid !== '1.3.6.1.4.1.11129.2.4.2').map((e) => e.raw)),
      ),
    );
    const issuerHash = createHash('sha256').update(parseCertificate(chainDer[1]).spki).digest();
    const signed = precertSignedData(Number(body.timestamp), issuerHash, tbsNoSct);
    expect(verify('sha256', signed, ctKey, sig.subarray(4))).toBe(true);

    // get-entries returns the MerkleTreeLeaf and the submitted chain.
    const roots = (await (await fetch(`${ca.url}/ct/v1/get-roots`)).json()) as { certificates: string[] };
    expect(roots.certificates).toEqual([chainDer[2].toString('base64')]);
    const entries = (await (await fetch(`${ca.url}/ct/v1/get-entries?start=0&end=10`)).json()) as {
      entries: { leaf_input: string; extra_data: string }[];
    };
    const last = entries.entries.at(-1)!;
    const leafInput = Buffer.from(last.leaf_input, 'base64');
    expect([leafInput[0], leafInput[1]]).toEqual([0, 0]); // v1, timestamped_entry
    expect(Number(leafInput.readBigUInt64BE(2))).toBe(body.timestamp);
    expect(leafInput.readUInt16BE(10)).toBe(1); // precert_entry
    expect(leafInput.subarray(12, 44)).toEqual(issuerHash);
    expect(leafInput.subarray(47, 47 + leafInput.readUIntBE(44, 3))).toEqual(tbsNoSct);
    const extra = Buffer.from(last.extra_data, 'base64');
    expect(extra.subarray(3, 3 + extra.readUIntBE(0, 3))).toEqual(precert);
  });

  it('refuses chains that are not precertificates from its CA', async () => {
    const precert = await makePrecert();
    let r = await addPreChain([chainDer[0], chainDer[1], chainDer[2]]);
    expect(r.status).toBe(400);
    expect(r.body.error_message).toMatch(/not a precertificate/);
    r = await addPreChain([precert, chainDer[2]]);
    expect(r.status).toBe(400);
    expect(r.body.error_message).toMatch(/not signed by/);
    r = await addPreChain([precert]);
    expect(r.status).toBe(400);
    r = await addPreChain([Buffer.from('garbage'), chainDer[1]]);
    expect(r.status).toBe(400);
    expect(r.body.error_message).toMatch(/malformed/);
    r = await addPreChain('nope');
    expect(r.status).toBe(400);
    r = await addPreChain([precert, chainDer[1], chainDer[1]]);
    expect(r.status).toBe(400);
    const res = await fetch(`${ca.url}/ct/v1/get-entries?start=5&end=1`);
    expect(res.status).toBe(400);
  });
});

describe('CT entry store', () => {
  it('keeps acknowledged entries across a reopen and cuts a torn tail', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-ct-store-'));
    const path = join(dir, 'entries.log');
    try {
      let store = openFileEntryStore(path);
      const acks = await Promise.all([1, 2, 3].map((i) => store.append(Buffer.from(`entry-${i}`))));
      expect(acks).toEqual([0, 1, 2]);
      await store.close();
      // A crash mid-write leaves half a record behind.
      await appendFile(path, Buffer.from([0, 0, 0, 50, 1, 2, 3]));
      store = openFileEntryStore(path);
      expect(store.size()).toBe(3);
      expect((await store.read(2, 3))[0].toString()).toBe('entry-3');
      expect(await store.append(Buffer.from('entry-4'))).toBe(3);
      await store.close();
      store = openFileEntryStore(path);
      expect(store.size()).toBe(4);
      expect((await store.read(3, 4))[0].toString()).toBe('entry-4');
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('releases concurrent groups in order and reads them back in that order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-ct-store-'));
    const path = join(dir, 'entries.log');
    try {
      let store = openFileEntryStore(path);
      // Appends spread over several event-loop turns make several groups, more than can be in flight at once.
      const acks: Promise<number>[] = [];
      for (let turn = 0; turn < 20; turn++) {
        for (let i = 0; i < 5; i++) acks.push(store.append(Buffer.from(`entry-${turn * 5 + i}`)));
        await new Promise((r) => setImmediate(r));
      }
      const order: number[] = [];
      for (const a of acks) void a.then((i) => order.push(i));
      expect(await Promise.all(acks)).toEqual(acks.map((_, i) => i));
      // Resolved in index order: an entry is never acknowledged before one ahead of it in the file.
      expect(order).toEqual(acks.map((_, i) => i));
      await store.close();
      store = openFileEntryStore(path);
      expect(store.size()).toBe(100);
      for (let i = 0; i < 100; i++) expect((await store.read(i, i + 1))[0].toString()).toBe(`entry-${i}`);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads records that are no longer kept in memory back from the file, also after a reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-ct-store-'));
    const path = join(dir, 'entries.log');
    const record = (i: number) => Buffer.from(`entry-${i}-${'x'.repeat(i % 7)}`);
    try {
      let store = openFileEntryStore(path, { recent: 4 });
      for (let turn = 0; turn < 10; turn++)
        await Promise.all(Array.from({ length: 5 }, (_, k) => store.append(record(turn * 5 + k))));
      const all = async () => (await store.read(0, store.size())).map(String);
      const expected = Array.from({ length: 50 }, (_, i) => record(i).toString());
      expect(await all()).toEqual(expected);
      await expect(store.read(50, 51)).rejects.toThrow(RangeError);
      await store.close();
      store = openFileEntryStore(path, { recent: 4 });
      expect(await all()).toEqual(expected);
      expect(await store.append(record(50))).toBe(50);
      expect((await store.read(3, 4))[0].toString()).toBe(record(3).toString());
      expect((await store.read(50, 51))[0].toString()).toBe(record(50).toString());
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops at a hole left by a group that never reached the disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-ct-store-'));
    const path = join(dir, 'entries.log');
    try {
      let store = openFileEntryStore(path);
      await store.append(Buffer.from('entry-0'));
      await store.close();
      // A later group's record behind 24 zero bytes: the earlier group's place, never written.
      const later = Buffer.from('entry-x');
      const header = Buffer.alloc(8);
      header.writeUInt32BE(later.length, 0);
      const { crc32 } = await import('node:zlib');
      header.writeUInt32BE(crc32(later), 4);
      await appendFile(path, Buffer.concat([Buffer.alloc(24), header, later]));
      store = openFileEntryStore(path);
      expect(store.size()).toBe(1);
      expect(await store.append(Buffer.from('entry-1'))).toBe(1);
      await store.close();
      store = openFileEntryStore(path);
      expect((await store.read(0, 2)).map(String)).toEqual(['entry-0', 'entry-1']);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes records into preallocated zeros, tops them up as records outrun them, and cuts them on close', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-ct-store-'));
    const path = join(dir, 'entries.log');
    const record = (i: number) => Buffer.from(`entry-${i}-${'y'.repeat(i % 11)}`);
    const { copyFile, stat } = await import('node:fs/promises');
    try {
      // 512 bytes at a time: the records outrun the zeros again and again (groups wait for a fill they overlap).
      let store = openFileEntryStore(path, { preallocate: 512 });
      expect((await stat(path)).size).toBe(512);
      const acks: Promise<number>[] = [];
      for (let turn = 0; turn < 40; turn++) {
        for (let i = 0; i < 3; i++) acks.push(store.append(record(turn * 3 + i)));
        await new Promise((r) => setImmediate(r));
      }
      expect(await Promise.all(acks)).toEqual(acks.map((_, i) => i));
      const dataBytes = acks.reduce((n, _, i) => n + 8 + record(i).length, 0);
      // While open, the file runs past the last record (zeros): what kill -9 leaves. A copy of it opens with
      // every acknowledged record and nothing else.
      expect((await stat(path)).size).toBeGreaterThan(dataBytes);
      await copyFile(path, join(dir, 'crashed.log'));
      const crashed = openFileEntryStore(join(dir, 'crashed.log'), { preallocate: 0 });
      expect(crashed.size()).toBe(120);
      for (let i = 0; i < 120; i++) expect((await crashed.read(i, i + 1))[0].equals(record(i))).toBe(true);
      await crashed.close();
      await store.close();
      // A clean close leaves exactly the records.
      expect((await stat(path)).size).toBe(dataBytes);
      store = openFileEntryStore(path);
      expect(store.size()).toBe(120);
      expect(await store.append(record(120))).toBe(120);
      for (let i = 0; i <= 120; i++) expect((await store.read(i, i + 1))[0].equals(record(i))).toBe(true);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('after a failed write refuses that group and the ones behind it, cuts the file back and carries on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-ct-store-'));
    const path = join(dir, 'entries.log');
    const { write } = await import('node:fs');
    try {
      let writes = 0;
      // Fault injection: the second group's write puts half its bytes down and then reports an I/O error,
      // after the third group's write (which is in flight with it) has gone through.
      const faulty = ((fd: number, buf: Buffer, off: number, len: number, pos: number, cb: WriteCb) => {
        writes++;
        if (writes !== 2) return write(fd, buf, off, len, pos, cb);
        write(fd, buf, off, len >> 1, pos, () =>
          setTimeout(() => cb(Object.assign(new Error('EIO: injected'), { code: 'EIO' }), 0, buf), 20),
        );
      }) as unknown as typeof write;
      let store = openFileEntryStore(path, { write: faulty });
      expect(await store.append(Buffer.from('entry-0'))).toBe(0);
      const second = store.append(Buffer.from('entry-failed'));
      await new Promise((r) => setImmediate(r));
      const third = store.append(Buffer.from('entry-behind'));
      await expect(second).rejects.toThrow(/EIO/);
      await expect(third).rejects.toThrow(/EIO/);
      expect(await store.append(Buffer.from('entry-1'))).toBe(1);
      await store.close();
      store = openFileEntryStore(path);
      expect([store.size(), ...(await store.read(0, 2)).map(String)]).toEqual([2, 'entry-0', 'entry-1']);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

type WriteCb = (err: NodeJS.ErrnoException | null, written: number, buf: Buffer) => void;

describe('CT Merkle tree', () => {
  /** RFC 6962 §2.1 MTH, naively: an implementation independent of src/merkle. */
  function mth(leaves: Buffer[]): Buffer {
    const h = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
    if (leaves.length === 0) return h();
    if (leaves.length === 1) return h(Buffer.from([0]), leaves[0]);
    let k = 1;
    while (k * 2 < leaves.length) k *= 2;
    return h(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
  }

  async function sthAtLeast(n: number) {
    for (let i = 0; i < 200; i++) {
      const sth = (await (await fetch(`${ca.url}/ct/v1/get-sth`)).json()) as Record<string, unknown>;
      if (Number(sth.tree_size) >= n) return sth;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`tree never reached ${n}`);
  }

  it('merges entries into a signed tree with inclusion and consistency proofs', async () => {
    for (let i = 0; i < 3; i++) await requestCert(ca.url, await devToken(ca.url));
    const { entries } = (await (await fetch(`${ca.url}/ct/v1/get-entries?start=0&end=255`)).json()) as {
      entries: { leaf_input: string }[];
    };
    const leaves = entries.map((e) => Buffer.from(e.leaf_input, 'base64'));
    const sth = await sthAtLeast(leaves.length);
    expect(sth.tree_size).toBe(leaves.length);
    expect(sth.sha256_root_hash).toBe(mth(leaves).toString('base64'));

    const ctKey = createPublicKey(await readFile(join(ca.dataDir, 'ct', 'ct-key.pem'), 'utf8'));
    const sig = Buffer.from(String(sth.tree_head_signature), 'base64');
    expect([sig[0], sig[1]]).toEqual([4, 3]);
    const signed = treeHeadSignedData(Number(sth.timestamp), leaves.length, mth(leaves));
    expect(verify('sha256', signed, ctKey, sig.subarray(4))).toBe(true);

    const target = leaves.length - 2;
    const hash = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), leaves[target]]))
      .digest();
    const q = new URLSearchParams({ hash: hash.toString('base64'), tree_size: String(leaves.length) });
    const proof = (await (await fetch(`${ca.url}/ct/v1/get-proof-by-hash?${q}`)).json()) as {
      leaf_index: number;
      audit_path: string[];
    };
    expect(proof.leaf_index).toBe(target);
    const path = proof.audit_path.map((p) => Buffer.from(p, 'base64'));
    expect(verifyInclusion(target, leaves.length, hash, path, mth(leaves))).toBe(true);

    const first = leaves.length - 1;
    const cons = (await (
      await fetch(`${ca.url}/ct/v1/get-sth-consistency?first=${first}&second=${leaves.length}`)
    ).json()) as { consistency: string[] };
    const consProof = cons.consistency.map((p) => Buffer.from(p, 'base64'));
    expect(verifyConsistency(first, leaves.length, mth(leaves.slice(0, first)), mth(leaves), consProof)).toBe(
      true,
    );

    let res = await fetch(
      `${ca.url}/ct/v1/get-proof-by-hash?hash=${'A'.repeat(43)}%3D&tree_size=${leaves.length}`,
    );
    expect(res.status).toBe(404);
    res = await fetch(`${ca.url}/ct/v1/get-sth-consistency?first=3&second=${leaves.length + 100}`);
    expect(res.status).toBe(400);
    res = await fetch(`${ca.url}/ct/v1/get-proof-by-hash?hash=abc&tree_size=1`);
    expect(res.status).toBe(400);
  });
});

describe('CT tree worker', () => {
  it('is replaced when it dies, and the tree catches up from the queue', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-ct-tree-'));
    try {
      const key = generateKey('ecdsa-p256');
      const keyPath = join(dir, 'ct-key.pem');
      await writeFile(keyPath, key.export({ type: 'pkcs8', format: 'pem' }));
      const queue = openFileEntryStore(join(dir, 'entries.log'));
      const tree = await CtTree.open(dir, localSigner(key), queue, recordLeaf, logStorage(), keyPath);
      const record = (i: number) => {
        const leaf = Buffer.from(`leaf-${i}`);
        return Buffer.concat([Buffer.from([0, 0, leaf.length]), leaf, Buffer.from([0, 0, 0, 0])]);
      };
      for (let i = 0; i < 3; i++) await queue.append(record(i));
      await tree.catchUp();
      expect(tree.size()).toBe(3);
      // Failure injection: kill the worker thread behind the tree's back.
      // biome-ignore lint/suspicious/noExplicitAny: reaching into the backend to kill its thread
      await (tree as any).backend.worker.terminate();
      for (let i = 3; i < 6; i++) await queue.append(record(i));
      for (let i = 0; i < 100 && tree.size() < 6; i++) {
        await tree.catchUp();
        if (tree.size() < 6) await new Promise((r) => setTimeout(r, 50));
      }
      expect(tree.size()).toBe(6);
      await tree.close();
      await queue.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('CT tree storage', () => {
  it('dedups re-appended leaves and finds entries by leaf hash, also those of trees with search terms', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-ct-tree-'));
    try {
      const signer = localSigner(generateKey('ecdsa-p256'));
      let tree = await InlineTree.open(dir, signer, logStorage().open);
      // A tree written the earlier way: the queue index as identity, the leaf hash as a search term.
      const old = Buffer.from('old-leaf-0');
      // biome-ignore lint/suspicious/noExplicitAny: writing an entry the way earlier versions did
      await (tree as any).engine.append({
        leaf: old,
        identity: Buffer.from('ct-queue:0'),
        terms: [leafHash(old).toString('base64')],
      });
      await tree.close();
      tree = await InlineTree.open(dir, signer, logStorage().open);
      const fresh = [Buffer.from('new-leaf-1'), Buffer.from('new-leaf-2')];
      await tree.append(1, fresh);
      // A crash between commit and acknowledgement makes the merger send the same leaves again: a no-op.
      await tree.append(1, fresh);
      expect(tree.head().size).toBe(3);
      expect((await tree.proveByHash(leafHash(old), 3))?.index).toBe(0);
      expect((await tree.proveByHash(leafHash(fresh[1]), 3))?.index).toBe(2);
      expect(await tree.proveByHash(leafHash(fresh[1]), 2)).toBeUndefined();
      expect(await tree.proveByHash(leafHash(Buffer.from('never logged')), 3)).toBeUndefined();
      await expect(tree.append(3, [fresh[0]])).rejects.toThrow(/out of step/);
      await tree.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
