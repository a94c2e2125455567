// The Rekor v2 log (#14) over its wire API, as rekor-tiles' clients use it: hashedrekord v0.0.2 requests with
// keys and certificates of each accepted type, DSSE v0.0.2, duplicates (409 + x-log-index), and the answer's
// inclusion proof and checkpoint recomputed by an independent checker from the tiles alone: the RFC 6962 §2.1
// definitions written out here (not src/merkle), over leaf hashes read from the level-0 tiles, the leaf itself
// from the entry bundle, and the checkpoint's Ed25519 signature checked with the C2SP key ID.

import { execFileSync } from 'node:child_process';
import { constants, createHash, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519ph } from '@noble/curves/ed25519';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pae, pemToDer } from '../../src/formats/index.js';
import { readRekorV2LogInfo } from '../../src/log/index.js';
import { logV2Service, prepareDataDir, type RunningServer, startServer } from '../../src/server/index.js';
import { stackDatabase } from '../backend.js';
import { entryFromBundle, leafHashesFromTiles, mth, path, sha256 } from './tiles.js';

let dir: string;
let dataDir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sigil-v2-'));
  await stackDatabase(dir);
  dataDir = join(dir, 'data');
  await prepareDataDir(dataDir);
  let url = '';
  server = await startServer([await logV2Service({ dataDir, publicUrl: () => url })], {
    logLevel: 'silent',
    onUrl: (u) => {
      url = u;
    },
  });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });

async function post(body: unknown) {
  const res = await fetch(`${server.url}/api/v2/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
}

function hashedRekord(
  digest: Buffer,
  signature: Buffer,
  verifier: { publicKey?: Buffer; cert?: Buffer },
  keyDetails: string,
) {
  const v = verifier.cert
    ? { x509Certificate: { rawBytes: verifier.cert.toString('base64') } }
    : { publicKey: { rawBytes: (verifier.publicKey as Buffer).toString('base64') } };
  return {
    hashedRekordRequestV002: {
      digest: digest.toString('base64'),
      signature: { content: signature.toString('base64'), verifier: { ...v, keyDetails } },
    },
  };
}

/** An artifact signed with `hash` by `key`: the digest and the signature over it. */
function signed(key: KeyObject, hash: string, artifact = `artifact ${Math.random()}`) {
  const data = Buffer.from(artifact);
  return { digest: createHash(hash).update(data).digest(), signature: sign(hash, data, key) };
}

/** Checks an answer from tiles alone: leaf, proof, root and checkpoint signature. */
async function checkFromTiles(answer: Record<string, any>, checkpointKey: KeyObject, origin: string) {
  const proof = answer.inclusionProof;
  const index = Number(answer.logIndex);
  const size = Number(proof.treeSize);
  const body = Buffer.from(answer.canonicalizedBody, 'base64');
  expect(await entryFromBundle(`${server.url}/api/v2`, index, size)).toEqual(body);
  const leaves = await leafHashesFromTiles(`${server.url}/api/v2`, size);
  expect(leaves[index]).toEqual(sha256(Buffer.from([0]), body));
  expect(mth(leaves).toString('base64')).toBe(proof.rootHash);
  expect(path(index, leaves).map((h) => h.toString('base64'))).toEqual(proof.hashes);
  // The checkpoint: origin, size, root; then "— origin base64(keyID ‖ signature)".
  const [text, sigs] = (proof.checkpoint.envelope as string).split('\n\n');
  expect(text.split('\n')).toEqual([origin, String(size), proof.rootHash]);
  const line = sigs.split('\n').find((l) => l.startsWith(`— ${origin} `)) as string;
  const raw = Buffer.from(line.split(' ')[2], 'base64');
  const keyHash = sha256(Buffer.from(`${origin}\n`), Buffer.from([1]), spki(checkpointKey).subarray(-32));
  expect(raw.subarray(0, 4)).toEqual(keyHash.subarray(0, 4));
  expect(answer.logId.keyId).toBe(keyHash.toString('base64'));
  expect(verify(null, Buffer.from(`${text}\n`), checkpointKey, raw.subarray(4))).toBe(true);
}

describe('Rekor v2 log', () => {
  it('logs hashedrekord v0.0.2 for each accepted key type, each answer provable from the tiles alone', async () => {
    const info = await (async () => {
      for (let i = 0; i < 50; i++) {
        const got = await readRekorV2LogInfo(dataDir);
        if (got) return got;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('no log.json');
    })();
    expect(info.origin).toBe('127.0.0.1');
    const keys: [KeyObject, KeyObject, string, string][] = [];
    const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve });
    const rsa = (modulusLength: number) => generateKeyPairSync('rsa', { modulusLength });
    for (const [pair, hash, details] of [
      [ec('P-256'), 'sha256', 'PKIX_ECDSA_P256_SHA_256'],
      [ec('P-384'), 'sha384', 'PKIX_ECDSA_P384_SHA_384'],
      [rsa(2048), 'sha256', 'PKIX_RSA_PKCS1V15_2048_SHA256'],
      [rsa(3072), 'sha256', 'PKIX_RSA_PKCS1V15_3072_SHA256'],
    ] as const)
      keys.push([pair.privateKey, pair.publicKey, hash, details]);
    const answers: Record<string, any>[] = [];
    // RSA-PSS: the same key, signing with PSS padding (MGF1-SHA-256, a 32-byte salt).
    const pssKey = rsa(2048);
    const pssData = Buffer.from(`pss artifact ${Math.random()}`);
    const pss = await post(
      hashedRekord(
        createHash('sha256').update(pssData).digest(),
        sign('sha256', pssData, {
          key: pssKey.privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: 32,
        }),
        { publicKey: spki(pssKey.publicKey) },
        'PKIX_RSA_PSS_2048_SHA256',
      ),
    );
    expect(pss.status, JSON.stringify(pss.json)).toBe(201);
    answers.push(pss.json);
    // ECDSA P-521 over SHA-512, and Ed25519ph (RFC 8032 §5.1, signed by @noble/curves: node:crypto has no
    // Ed25519ph) over SHA-512 of the artifact, the digest the request carries.
    const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
    const s521 = signed(p521.privateKey, 'sha512');
    const r521 = await post(
      hashedRekord(
        s521.digest,
        s521.signature,
        { publicKey: spki(p521.publicKey) },
        'PKIX_ECDSA_P521_SHA_512',
      ),
    );
    expect(r521.status, JSON.stringify(r521.json)).toBe(201);
    answers.push(r521.json);
    const other521 = await post(
      hashedRekord(
        createHash('sha512').update('other').digest(),
        s521.signature,
        { publicKey: spki(p521.publicKey) },
        'PKIX_ECDSA_P521_SHA_512',
      ),
    );
    expect(other521.status).toBe(400);
    expect(other521.json.message).toMatch(/signature does not match/);
    const edPriv = ed25519ph.utils.randomPrivateKey();
    const edPub = generateKeyPairSync('ed25519').publicKey; // an SPKI shell, its key bytes replaced below
    const edSpki = Buffer.concat([spki(edPub).subarray(0, 12), Buffer.from(ed25519ph.getPublicKey(edPriv))]);
    const edData = Buffer.from(`ed25519ph artifact ${Math.random()}`);
    const edSig = Buffer.from(ed25519ph.sign(edData, edPriv));
    const edDigest = createHash('sha512').update(edData).digest();
    const rph = await post(hashedRekord(edDigest, edSig, { publicKey: edSpki }, 'PKIX_ED25519_PH'));
    expect(rph.status, JSON.stringify(rph.json)).toBe(201);
    answers.push(rph.json);
    // The same Ed25519ph signature over another digest, and a pure Ed25519 signature of the digest, are refused.
    const wrongPh = await post(
      hashedRekord(
        createHash('sha512').update('x').digest(),
        edSig,
        { publicKey: edSpki },
        'PKIX_ED25519_PH',
      ),
    );
    expect(wrongPh.status).toBe(400);
    const ed = generateKeyPairSync('ed25519');
    const pureOfDigest = await post(
      hashedRekord(
        edDigest,
        sign(null, edDigest, ed.privateKey),
        { publicKey: spki(ed.publicKey) },
        'PKIX_ED25519_PH',
      ),
    );
    expect(pureOfDigest.status).toBe(400);
    expect(pureOfDigest.json.message).toMatch(/signature does not match/);
    for (const [priv, pub, hash, details] of keys) {
      const s = signed(priv, hash);
      const r = await post(hashedRekord(s.digest, s.signature, { publicKey: spki(pub) }, details));
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      expect(r.json.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
      expect(r.json.inclusionPromise).toBeUndefined();
      expect(r.json.integratedTime).toBeUndefined();
      const body = JSON.parse(Buffer.from(r.json.canonicalizedBody, 'base64').toString());
      expect(body.spec.hashedRekordV002.data.digest).toBe(s.digest.toString('base64'));
      answers.push(r.json);
    }
    // A certificate as the verifier (made by openssl, a P-256 key).
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        '/CN=signer',
        '-addext',
        'subjectAltName=email:signer@example.com',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
        '-days',
        '1',
      ],
      { stdio: 'pipe' },
    );
    const certKey = (await import('node:crypto')).createPrivateKey(await readFile(join(dir, 'k.pem')));
    const cert = pemToDer(await readFile(join(dir, 'c.pem'), 'utf8'))[0];
    const s = signed(certKey, 'sha256');
    const withCert = await post(hashedRekord(s.digest, s.signature, { cert }, 'PKIX_ECDSA_P256_SHA_256'));
    expect(withCert.status, JSON.stringify(withCert.json)).toBe(201);
    answers.push(withCert.json);
    for (const a of answers) await checkFromTiles(a, info.publicKey, info.origin);
    // The checkpoint endpoint serves the latest one, and earlier answers still verify against their own.
    const cp = await (await fetch(`${server.url}/api/v2/checkpoint`)).text();
    expect(cp.split('\n')[1]).toBe(String(Number(answers.at(-1)?.logIndex) + 1));
  });

  it('answers a duplicate with 409 and the index it already has', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const s = signed(privateKey, 'sha256');
    const req = hashedRekord(
      s.digest,
      s.signature,
      { publicKey: spki(publicKey) },
      'PKIX_ECDSA_P256_SHA_256',
    );
    const first = await post(req);
    expect(first.status).toBe(201);
    const again = await post(req);
    expect(again.status).toBe(409);
    expect(again.headers.get('x-log-index')).toBe(first.json.logIndex);
    expect(again.json.message).toMatch(/already in the log/);
  });

  it('logs a DSSE envelope as dsse v0.0.2 and as a hashedrekord over its PAE', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
    const type = 'application/vnd.in-toto+json';
    const sig = sign('sha256', pae(type, payload), privateKey);
    const verifier = {
      publicKey: { rawBytes: spki(publicKey).toString('base64') },
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    };
    const dsse = await post({
      dsseRequestV002: {
        envelope: {
          payloadType: type,
          payload: payload.toString('base64'),
          signatures: [{ sig: sig.toString('base64'), keyid: '' }],
        },
        verifiers: [verifier],
      },
    });
    expect(dsse.status, JSON.stringify(dsse.json)).toBe(201);
    expect(dsse.json.kindVersion).toEqual({ kind: 'dsse', version: '0.0.2' });
    const body = JSON.parse(Buffer.from(dsse.json.canonicalizedBody, 'base64').toString());
    expect(body.spec.dsseV002.payloadHash.digest).toBe(createHash('sha256').update(payload).digest('base64'));
    // The way current clients log it: a hashedrekord over SHA-256 of the PAE, signed by the same signature.
    const digest = createHash('sha256').update(pae(type, payload)).digest();
    const hr = await post(
      hashedRekord(digest, sig, { publicKey: spki(publicKey) }, 'PKIX_ECDSA_P256_SHA_256'),
    );
    expect(hr.status, JSON.stringify(hr.json)).toBe(201);
  });

  it('refuses what rekor-tiles refuses, saying why', async () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const ed = generateKeyPairSync('ed25519');
    const s = signed(p256.privateKey, 'sha256');
    const cases: [unknown, RegExp][] = [
      [
        hashedRekord(s.digest, s.signature, { publicKey: spki(p384.publicKey) }, 'PKIX_ECDSA_P256_SHA_256'),
        /do not match the key, an ECDSA P-384 key/,
      ],
      [
        hashedRekord(s.digest, s.signature, { publicKey: spki(p256.publicKey) }, 'PKIX_ECDSA_P384_SHA_384'),
        /48 bytes/,
      ],
      [
        hashedRekord(
          s.digest,
          s.signature,
          { publicKey: spki(p256.publicKey) },
          'PKIX_RSA_PKCS1V15_2048_SHA256',
        ),
        /do not match/,
      ],
      [
        hashedRekord(
          s.digest,
          sign(null, s.digest, ed.privateKey),
          { publicKey: spki(ed.publicKey) },
          'PKIX_ED25519',
        ),
        /signs the message itself/,
      ],
      [
        hashedRekord(
          createHash('sha512').update('x').digest(),
          s.signature,
          { publicKey: spki(ed.publicKey) },
          'PKIX_ED25519_PH',
        ),
        // A signature that is not an Ed25519ph signature over that digest.
        /signature does not match/,
      ],
      [
        hashedRekord(s.digest, s.signature, { publicKey: spki(p256.publicKey) }, 'PKIX_ECDSA_P521_SHA_512'),
        /64 bytes/,
      ],
      [
        hashedRekord(
          s.digest,
          Buffer.from(s.signature).fill(1, 8, 12),
          { publicKey: spki(p256.publicKey) },
          'PKIX_ECDSA_P256_SHA_256',
        ),
        /signature does not match/,
      ],
      [
        hashedRekord(
          createHash('sha256').update('other').digest(),
          s.signature,
          { publicKey: spki(p256.publicKey) },
          'PKIX_ECDSA_P256_SHA_256',
        ),
        /signature does not match/,
      ],
    ];
    for (const [body, says] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(r.json)).toBe(400);
      expect(r.json.message).toMatch(says);
    }
  });
});
