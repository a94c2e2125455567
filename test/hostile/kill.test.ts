// kill -9 of `sigil up` in the middle of work (issues #15, #14): while clients push blobs in chunks (POST, PATCHes,
// PUT), get certificates and append entries to the Rekor v1 and v2 logs, the process is SIGKILLed; it is started again on the same data
// dir, and then everything it acknowledged must be there: each log entry retrievable with a valid inclusion proof,
// every checkpoint a client saw consistent with the new tree head, each blob readable with its digest, each
// certificate's precertificate in the CT log with a valid proof. An upload whose PUT was never sent must not be
// visible. Done twice, at different moments, on the same data dir.

import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { precertLeaf } from '../../src/ct/index.js';
import {
  findExtension,
  OID,
  parseCertificate,
  parseSctList,
  pemToDer,
  precertificateTbs,
} from '../../src/formats/index.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/merkle/index.js';
import { hashedRekord, newKey } from '../log/helpers.js';
import { entryFromBundle, leafHashesFromTiles, mth } from '../log/tiles.js';
import { type PostgresCluster, startPostgres } from '../pg/cluster.js';
import { describePostgres } from '../pg/suite.js';
import { addRunner, idToken, registryCredentials, registryToken, send, startUp, type Up } from './stack.js';

const REPO = 'hostile/kill';
const hex = (s: string) => Buffer.from(s, 'hex');
const b64 = (s: string) => Buffer.from(s, 'base64');

/** The parts of a Rekor LogEntry these checks read. */
interface EntryJson {
  logIndex: number;
  body: string;
  verification: {
    inclusionProof: { logIndex: number; treeSize: number; rootHash: string; hashes: string[] };
  };
}

interface LogAck {
  uuid: string;
  index: number;
  body: string;
}
interface Checkpoint {
  size: number;
  root: string;
}
interface Acks {
  entries: LogAck[];
  checkpoints: Checkpoint[];
  /** Rekor v2: each acknowledged entry (index and canonical body) and the checkpoint its answer carried. */
  v2: { index: number; body: string }[];
  v2Checkpoints: { size: number; root: string }[];
  /** Leaf certificate and its issuer (PEM), for every certificate the CA answered with. */
  certs: { leaf: string; issuer: string }[];
  blobs: { digest: string; data: Buffer }[];
  /** Digests of uploads whose final PUT was sent but not answered: either state is allowed. */
  inflight: string[];
  /** Digests of uploads stopped before their PUT: must not be visible. */
  unfinished: string[];
}

let up: Up | undefined;
afterAll(async () => {
  await up?.stop();
});

/** Runs the three kinds of load until `stop()`; each loop ends at its first failed request (the kill). */
function load(url: string, o: { token: string; registry: string }, acks: Acks) {
  let stopped = false;
  const key = newKey();
  let n = 0;
  const appends = async () => {
    while (!stopped) {
      const r = await send(url, {
        method: 'POST',
        path: '/api/v1/log/entries',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(hashedRekord(Buffer.from(`kill test artifact ${n++} ${Date.now()}`), key)),
      });
      if (r.status !== 201) return;
      const [[uuid, e]] = Object.entries(JSON.parse(r.body)) as [string, EntryJson][];
      acks.entries.push({ uuid, index: e.logIndex, body: e.body });
      const p = e.verification.inclusionProof;
      acks.checkpoints.push({ size: p.treeSize, root: p.rootHash });
    }
  };
  const issuance = async () => {
    const sub = JSON.parse(Buffer.from(o.token.split('.')[1], 'base64url').toString()).sub as string;
    while (!stopped) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const r = await send(url, {
        method: 'POST',
        path: '/api/v2/signingCert',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          credentials: { oidcIdentityToken: o.token },
          publicKeyRequest: {
            publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) },
            proofOfPossession: sign('sha256', Buffer.from(sub), privateKey).toString('base64'),
          },
        }),
      });
      if (r.status !== 200) return;
      const [leaf, issuer] = JSON.parse(r.body).signedCertificateEmbeddedSct.chain.certificates as string[];
      acks.certs.push({ leaf, issuer });
    }
  };
  const uploads = async () => {
    const auth = { authorization: `Bearer ${o.registry}` };
    while (!stopped) {
      const data = randomBytes(4 * 64 * 1024);
      const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      acks.unfinished.push(digest);
      const post = await send(url, { method: 'POST', path: `/v2/${REPO}/blobs/uploads/`, headers: auth });
      if (post.status !== 202) return;
      let location = post.headers.location as string;
      for (let at = 0; at < data.length; at += 64 * 1024) {
        const patch = await send(url, {
          method: 'PATCH',
          path: location,
          headers: {
            ...auth,
            'content-type': 'application/octet-stream',
            'content-range': `${at}-${at + 64 * 1024 - 1}`,
          },
          body: data.subarray(at, at + 64 * 1024),
        });
        if (patch.status !== 202) return;
        location = patch.headers.location as string;
      }
      acks.unfinished.pop();
      acks.inflight.push(digest);
      const sep = location.includes('?') ? '&' : '?';
      const put = await send(url, {
        method: 'PUT',
        path: `${location}${sep}digest=${digest}`,
        headers: auth,
      });
      if (put.status !== 201) return;
      acks.inflight.pop();
      acks.blobs.push({ digest, data });
    }
  };
  const v2Key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const v2Spki = v2Key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const appendsV2 = async () => {
    while (!stopped) {
      const data = Buffer.from(`kill test v2 artifact ${n++} ${Date.now()}`);
      const r = await send(url, {
        method: 'POST',
        path: '/api/v2/log/entries',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          hashedRekordRequestV002: {
            digest: createHash('sha256').update(data).digest('base64'),
            signature: {
              content: sign('sha256', data, v2Key.privateKey).toString('base64'),
              verifier: { publicKey: { rawBytes: v2Spki }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
            },
          },
        }),
      });
      if (r.status !== 201) return;
      const e = JSON.parse(r.body);
      acks.v2.push({ index: Number(e.logIndex), body: e.canonicalizedBody });
      acks.v2Checkpoints.push({ size: Number(e.inclusionProof.treeSize), root: e.inclusionProof.rootHash });
    }
  };
  const running = Promise.all([appends(), appends(), appendsV2(), issuance(), uploads()]);
  return {
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

/** Everything acknowledged so far is there, provable and consistent, after a restart. */
async function verifyAll(u: Up, acks: Acks): Promise<void> {
  const url = u.url;
  // The log: the current head, each entry's inclusion, each earlier checkpoint's consistency with the head.
  const head = JSON.parse((await send(url, { method: 'GET', path: '/api/v1/log' })).body) as {
    treeSize: number;
    rootHash: string;
  };
  const lastAck = Math.max(-1, ...acks.entries.map((e) => e.index));
  expect(head.treeSize).toBeGreaterThan(lastAck);
  for (const a of acks.entries) {
    const r = await send(url, { method: 'GET', path: `/api/v1/log/entries/${a.uuid}` });
    expect(r.status, `entry ${a.index} ${a.uuid}: ${r.body}`).toBe(200);
    const e = Object.values(JSON.parse(r.body))[0] as EntryJson;
    expect(e.logIndex).toBe(a.index);
    expect(e.body).toBe(a.body);
    const p = e.verification.inclusionProof;
    const ok = verifyInclusion(
      p.logIndex,
      p.treeSize,
      leafHash(b64(a.body)),
      p.hashes.map(hex),
      hex(p.rootHash),
    );
    expect(ok, `inclusion of entry ${a.index}`).toBe(true);
  }
  const seen = new Map(acks.checkpoints.map((c) => [c.size, c.root]));
  for (const [size, root] of seen) {
    if (size === head.treeSize) {
      expect(root).toBe(head.rootHash);
      continue;
    }
    const r = await send(url, {
      method: 'GET',
      path: `/api/v1/log/proof?firstSize=${size}&lastSize=${head.treeSize}`,
    });
    expect(r.status, r.body).toBe(200);
    const proof = JSON.parse(r.body) as { rootHash: string; hashes: string[] };
    expect(proof.rootHash).toBe(head.rootHash);
    expect(
      verifyConsistency(size, head.treeSize, hex(root), hex(head.rootHash), proof.hashes.map(hex)),
      `consistency ${size} -> ${head.treeSize}`,
    ).toBe(true);
  }

  // Rekor v2, from its tiles alone: each acknowledged entry in its bundle and its leaf in the tiles, the current
  // checkpoint's root recomputed from the leaves, and every earlier checkpoint's root from the leaves it covered
  // (a prefix of the same leaves: the log never forked).
  const v2Base = `${url}/api/v2`;
  const v2Head = (await send(url, { method: 'GET', path: '/api/v2/checkpoint' })).body.split('\n');
  const v2Size = Number(v2Head[1]);
  expect(v2Size).toBeGreaterThan(Math.max(-1, ...acks.v2.map((e) => e.index)));
  const leaves = await leafHashesFromTiles(v2Base, v2Size);
  expect(mth(leaves).toString('base64'), 'v2 checkpoint root from the tiles').toBe(v2Head[2]);
  for (const a of acks.v2) {
    expect(await entryFromBundle(v2Base, a.index, v2Size), `v2 entry ${a.index}`).toEqual(b64(a.body));
    expect(leaves[a.index]).toEqual(leafHash(b64(a.body)));
  }
  for (const c of new Map(acks.v2Checkpoints.map((c) => [c.size, c.root])).entries())
    expect(mth(leaves.slice(0, c[0])).toString('base64'), `v2 checkpoint of size ${c[0]}`).toBe(c[1]);

  // The registry: acknowledged blobs whole; unfinished ones invisible; in-flight ones whole if present.
  const token = await registryToken(url, await registryCredentials(u), [`repository:${REPO}:pull`]);
  const get = (digest: string) =>
    send(url, {
      method: 'GET',
      path: `/v2/${REPO}/blobs/${digest}`,
      headers: { authorization: `Bearer ${token}` },
    });
  for (const b of acks.blobs) {
    const r = await get(b.digest);
    expect(r.status, `blob ${b.digest}`).toBe(200);
  }
  for (const b of acks.blobs) {
    // `send` reads text; compare the digest of the bytes fetched as binary.
    const res = await fetch(`${url}/v2/${REPO}/blobs/${b.digest}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const got = Buffer.from(await res.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(got).digest('hex')}`).toBe(b.digest);
  }
  for (const d of acks.unfinished) {
    const r = await get(d);
    expect(r.status, `unfinished upload ${d} must not be visible`).toBe(404);
    expect(JSON.parse(r.body).errors[0].code).toBe('BLOB_UNKNOWN');
  }
  for (const d of acks.inflight) {
    const res = await fetch(`${url}/v2/${REPO}/blobs/${d}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.status === 404) continue;
    expect(res.status).toBe(200);
    const got = Buffer.from(await res.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(got).digest('hex')}`).toBe(d);
  }

  // The CT log: each certificate's precertificate entry, found by its leaf hash, with a proof to a signed head.
  let sth = { tree_size: 0, sha256_root_hash: '' };
  for (let i = 0; i < 200 && sth.tree_size < acks.certs.length; i++) {
    sth = JSON.parse((await send(url, { method: 'GET', path: '/ct/v1/get-sth' })).body);
    if (sth.tree_size < acks.certs.length) await new Promise((r) => setTimeout(r, 100));
  }
  expect(sth.tree_size).toBeGreaterThanOrEqual(acks.certs.length);
  for (const c of acks.certs) {
    const leaf = parseCertificate(pemToDer(c.leaf)[0]);
    const issuer = parseCertificate(pemToDer(c.issuer)[0]);
    const ext = findExtension(leaf, OID.sctList);
    expect(ext, 'an embedded SCT').toBeDefined();
    const [sct] = parseSctList(ext!.value);
    const entry = precertLeaf(
      Number(sct.timestamp),
      createHash('sha256').update(issuer.spki).digest(),
      precertificateTbs(leaf),
    );
    const hash = leafHash(entry);
    const r = await send(url, {
      method: 'GET',
      path: `/ct/v1/get-proof-by-hash?tree_size=${sth.tree_size}&hash=${encodeURIComponent(hash.toString('base64'))}`,
    });
    expect(r.status, `CT entry of certificate ${leaf.serialNumber.toString('hex')}: ${r.body}`).toBe(200);
    const p = JSON.parse(r.body) as { leaf_index: number; audit_path: string[] };
    expect(
      verifyInclusion(p.leaf_index, sth.tree_size, hash, p.audit_path.map(b64), b64(sth.sha256_root_hash)),
    ).toBe(true);
  }
}

function killTest(args: () => string[]): void {
  it('loses nothing acknowledged and shows nothing half-written, across two kills at different moments', async () => {
    await up?.stop();
    up = await startUp({ args: args() });
    const acks: Acks = {
      entries: [],
      checkpoints: [],
      v2: [],
      v2Checkpoints: [],
      certs: [],
      blobs: [],
      inflight: [],
      unfinished: [],
    };
    const secret = await addRunner(up, 'kill');
    // Kill once early and once later, each time in the middle of all three kinds of work.
    for (const [round, target] of [
      [1, { entries: 10, v2: 5, certs: 3, blobs: 2 }],
      [2, { entries: 80, v2: 40, certs: 24, blobs: 6 }],
    ] as const) {
      const token = await idToken(up.url, secret);
      const registry = await registryToken(up.url, await registryCredentials(up), [
        `repository:${REPO}:pull,push`,
      ]);
      const running = load(up.url, { token, registry }, acks);
      const deadline = Date.now() + 60_000;
      while (
        (acks.entries.length < target.entries ||
          acks.v2.length < target.v2 ||
          acks.certs.length < target.certs ||
          acks.blobs.length < target.blobs) &&
        Date.now() < deadline
      )
        await new Promise((r) => setTimeout(r, 20));
      const child = up.stack.child;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      await running.stop();
      expect(acks.entries.length, `round ${round}: appends acknowledged`).toBeGreaterThanOrEqual(
        target.entries,
      );
      expect(acks.v2.length, `round ${round}: v2 appends`).toBeGreaterThanOrEqual(target.v2);
      expect(acks.certs.length, `round ${round}: certificates`).toBeGreaterThanOrEqual(target.certs);
      expect(acks.blobs.length, `round ${round}: blobs`).toBeGreaterThanOrEqual(target.blobs);
      // What was going on at the kill, for the record (the assertions below hold whatever it was).
      console.log(
        `round ${round}: killed after ${acks.entries.length} appends (${acks.v2.length} to v2), ${acks.certs.length} certificates, ` +
          `${acks.blobs.length} blobs acknowledged; uploads in flight ${acks.inflight.length}, unfinished ${acks.unfinished.length}`,
      );
      await up.restart();
      await verifyAll(up, acks);
    }
  }, 240_000);
}

describe('kill -9 of sigil up under load', () => {
  killTest(() => []);
});

// The same with the logs in PostgreSQL (#17): a commit acknowledged by the database is what the engine acknowledges.
describePostgres('kill -9 of sigil up under load, logs in PostgreSQL', () => {
  let cluster: PostgresCluster | undefined;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(() => cluster?.destroy());
  killTest(() => ['--database', (cluster as PostgresCluster).url]);
});
