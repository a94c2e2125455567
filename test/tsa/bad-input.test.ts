// Hostile and malformed timestamp requests (#14): every one a 4xx that says what was wrong, never a 5xx, a hang
// or a dropped connection, and the TSA still stamps a good request afterwards. A DER query is answered with an
// RFC 3161 rejection (status 2, a failure bit, a statusString); anything else with sigstore's {code, message}.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeTimestampRequest,
  octetString,
  oid,
  parseTimestampResponse,
  seq,
  smallInteger,
  TAG,
  tlv,
} from '../../src/formats/index.js';
import { prepareDataDir, type RunningServer, startServer } from '../../src/server/index.js';
import { createTsaService } from '../../src/tsa/index.js';

let dir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sigil-tsa-bad-'));
  const dataDir = join(dir, 'data');
  await prepareDataDir(dataDir);
  let url = '';
  server = await startServer([await createTsaService({ dataDir, publicUrl: () => url })], {
    logLevel: 'silent',
  });
  url = server.url;
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Case {
  name: string;
  body: Buffer | string;
  type?: string;
  method?: string;
  /** Expected status when it is not 400. */
  status?: number;
  /** A word the message must contain. */
  says?: RegExp;
}

const SHA256 = '2.16.840.1.101.3.4.2.1';
const digest32 = Buffer.alloc(32, 7);
const good = encodeTimestampRequest({ hashAlgorithm: 'sha256', hashedMessage: digest32, certReq: true });
const DER = 'application/timestamp-query';

/** A TimeStampReq from parts, to vary one at a time. */
function request({
  version = smallInteger(1),
  alg = seq(oid(SHA256)),
  digest = digest32 as Buffer,
  extra = [] as Buffer[],
} = {}): Buffer {
  return seq(version, seq(alg, octetString(digest)), ...extra);
}

function derCases(): Case[] {
  const out: Case[] = [];
  for (let n = 0; n < good.length; n++)
    out.push({ name: `truncated to ${n} of ${good.length} bytes`, body: good.subarray(0, n), type: DER });
  for (const extra of [1, 2, 100])
    out.push({
      name: `${extra} bytes after the request`,
      body: Buffer.concat([good, Buffer.alloc(extra, 0)]),
      type: DER,
      says: /after the request/,
    });
  // Each header byte of the request, flipped.
  for (const at of [0, 1, 2, 3, 4, 5, 6])
    out.push({
      name: `byte ${at} flipped`,
      body: Buffer.from(good.map((b, i) => (i === at ? b ^ 0xff : b))),
      type: DER,
    });
  const algs: [string, RegExp][] = [
    ['1.2.840.113549.2.5', /not sha256/], // MD5
    ['1.3.14.3.2.26', /SHA-1 is too weak/],
    ['2.16.840.1.101.3.4.2.4', /not sha256/], // SHA-224
    ['2.16.840.1.101.3.4.2.6', /not sha256/], // SHA-512/256
    ['2.16.840.1.101.3.4.2.8', /not sha256/], // SHA3-256
    ['2.16.840.1.101.3.4.2.10', /not sha256/], // SHA3-512
    ['1.2.840.10045.4.3.2', /not sha256/], // a signature algorithm
    ['1.2.3.4', /not sha256/],
  ];
  for (const [alg, says] of algs)
    out.push({ name: `hash algorithm ${alg}`, body: request({ alg: seq(oid(alg)) }), type: DER, says });
  out.push({
    name: 'sha256 with INTEGER parameters',
    body: request({ alg: seq(oid(SHA256), smallInteger(1)) }),
    type: DER,
    says: /no parameters/,
  });
  out.push({
    name: 'sha256 with NULL parameters is fine, but a 31-byte digest is not',
    body: request({ alg: seq(oid(SHA256), Buffer.from([5, 0])), digest: Buffer.alloc(31) }),
    type: DER,
    says: /31 bytes/,
  });
  for (const len of [0, 1, 16, 20, 31, 33, 48, 64, 1000])
    out.push({
      name: `sha256 imprint of ${len} bytes`,
      body: request({ digest: Buffer.alloc(len, 1) }),
      type: DER,
      says: new RegExp(`${len} bytes`),
    });
  for (const [name, o, len] of [
    ['sha384', '2.16.840.1.101.3.4.2.2', 32],
    ['sha512', '2.16.840.1.101.3.4.2.3', 48],
  ] as const)
    out.push({
      name: `${name} imprint of ${len} bytes`,
      body: request({ alg: seq(oid(o)), digest: Buffer.alloc(len) }),
      type: DER,
      says: /bytes/,
    });
  for (const v of [0, 2, 3, 255])
    out.push({
      name: `version ${v}`,
      body: request({ version: smallInteger(v) }),
      type: DER,
      says: /version/,
    });
  for (const p of ['1.2.3', '1.3.6.1.4.1.57264.3', '2.5.29.32.0'])
    out.push({ name: `policy ${p}`, body: request({ extra: [oid(p)] }), type: DER, says: /policy/ });
  // Extensions ::= [0] IMPLICIT SEQUENCE OF Extension
  const ext = tlv(0xa0, seq(oid('1.2.3.4'), octetString(Buffer.from([1]))));
  out.push({ name: 'request extensions', body: request({ extra: [ext] }), type: DER, says: /extensions/ });
  for (const len of [21, 32, 100])
    out.push({
      name: `nonce of ${len} bytes`,
      body: request({ extra: [tlv(TAG.INTEGER, Buffer.alloc(len, 0x11))] }),
      type: DER,
      says: /nonce/,
    });
  out.push({
    name: 'certReq not a BOOLEAN',
    body: request({ extra: [tlv(TAG.BOOLEAN, Buffer.from([1, 2]))] }),
    type: DER,
  });
  out.push({
    name: 'a SET, not a SEQUENCE',
    body: Buffer.concat([Buffer.from([0x31]), good.subarray(1)]),
    type: DER,
  });
  out.push({
    name: 'a certificate, not a request',
    body: seq(seq(smallInteger(2)), seq(oid('1.2.840.10045.4.3.2'))),
    type: DER,
  });
  out.push({
    name: 'indefinite length',
    body: Buffer.from([0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00]),
    type: DER,
  });
  out.push({
    name: 'length overflow',
    body: Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02]),
    type: DER,
  });
  out.push({
    name: 'deep nesting',
    body: Buffer.concat([...Array(400)].map(() => Buffer.from([0x30, 0x80]))),
    type: DER,
  });
  out.push({ name: 'JSON sent as a DER query', body: '{"artifactHash":"x"}', type: DER });
  out.push({ name: 'text', body: 'please timestamp this', type: DER });
  out.push({
    name: 'oversize query',
    body: Buffer.alloc(5000, 0x30),
    type: DER,
    status: 413,
    says: /limit of 4096 bytes/,
  });
  return out;
}

function jsonCases(): Case[] {
  const digest = digest32.toString('base64');
  const base = { artifactHash: digest, hashAlgorithm: 'sha256', certificates: true };
  const out: Case[] = [];
  const json = (name: string, value: unknown, says?: RegExp, status?: number): Case => ({
    name,
    body: JSON.stringify(value),
    type: 'application/json',
    says,
    status,
  });
  out.push(json('empty object', {}, /artifactHash/));
  out.push(json('array', [base], /JSON object/));
  out.push(json('null', null, /JSON object/));
  out.push(json('string', 'x', /JSON object/));
  out.push(json('number', 5, /JSON object/));
  for (const f of Object.keys(base)) {
    const { [f as keyof typeof base]: _, ...rest } = base;
    if (f !== 'certificates') out.push(json(`without ${f}`, rest, new RegExp(f)));
  }
  for (const v of [5, null, true, {}, [], 'not base64!', '%%%%', 'a'.repeat(3)])
    out.push(json(`artifactHash ${JSON.stringify(v)}`, { ...base, artifactHash: v }));
  for (const v of ['', 'SHA-256', 'md5', 'sha224', 'sha3-256', 'sha512/256', 5, null, ['sha256']])
    out.push(json(`hashAlgorithm ${JSON.stringify(v)}`, { ...base, hashAlgorithm: v }, /hashAlgorithm/));
  out.push(json('hashAlgorithm sha1', { ...base, hashAlgorithm: 'sha1' }, /too weak/));
  for (const [alg, len] of [
    ['sha384', 32],
    ['sha512', 32],
    ['sha256', 48],
    ['sha256', 0],
  ] as const)
    out.push(
      json(
        `${alg} with ${len} bytes`,
        { ...base, hashAlgorithm: alg, artifactHash: Buffer.alloc(len).toString('base64') },
        /bytes/,
      ),
    );
  for (const v of ['yes', 1, null, {}])
    out.push(json(`certificates ${JSON.stringify(v)}`, { ...base, certificates: v }, /certificates/));
  for (const v of [-1, 0, 1.5, '12', 1e300, { n: 1 }, [1]])
    out.push(json(`nonce ${JSON.stringify(v)}`, { ...base, nonce: v }, /nonce/));
  for (const v of ['1.2.3', '2.5.29.32.0'])
    out.push(json(`tsaPolicyOID ${v}`, { ...base, tsaPolicyOID: v }, /policy/));
  for (const v of ['policy', '1', '1..2', 5, ['1.2']])
    out.push(json(`tsaPolicyOID ${JSON.stringify(v)}`, { ...base, tsaPolicyOID: v }, /tsaPolicyOID/));
  for (const k of ['extra', 'artifact', '__proto__x', 'ArtifactHash'])
    out.push(json(`unknown field ${k}`, { ...base, [k]: 1 }, /unknown field/));
  out.push({ name: 'invalid JSON', body: '{"artifactHash":', type: 'application/json', says: /JSON/ });
  out.push({ name: 'empty JSON body', body: '', type: 'application/json' });
  out.push({
    name: 'JSON over 1 KiB',
    body: JSON.stringify({ ...base, pad: 'x'.repeat(2000) }),
    type: 'application/json',
    status: 413,
    says: /1024 bytes/,
  });
  for (const type of [
    'text/plain',
    'application/xml',
    'application/octet-stream',
    'multipart/form-data; boundary=application/json',
    'application/timestamp-reply',
  ])
    out.push({ name: `content type ${type}`, body: good, type, status: 415, says: /timestamp-query/ });
  return out;
}

async function send(c: Case) {
  const res = await fetch(`${server.url}/api/v1/timestamp`, {
    method: c.method ?? 'POST',
    headers: c.type ? { 'content-type': c.type } : {},
    body: c.body,
    signal: AbortSignal.timeout(10_000),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: Buffer.from(await res.arrayBuffer()),
  };
}

/** The message a refusal carries: the statusString of a DER rejection, or the JSON message. */
async function messageOf(r: { type: string; body: Buffer }): Promise<string> {
  if (r.type.startsWith('application/timestamp-reply')) {
    const parsed = await parseTimestampResponse(r.body);
    if (parsed.status !== 2) throw new Error(`a refusal with status ${parsed.status}`);
    return parsed.statusString ?? '';
  }
  return (JSON.parse(r.body.toString()) as { message: string }).message;
}

describe('TSA bad input', () => {
  const cases = [...derCases(), ...jsonCases()];

  it(`refuses all ${cases.length} malformed requests with a 4xx that says why`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    const problems: string[] = [];
    for (const c of cases) {
      try {
        const r = await send(c);
        const want = c.status ?? 400;
        const message = await messageOf(r);
        if (r.status !== want) problems.push(`${c.name}: ${r.status} (${message}), expected ${want}`);
        else if (!message) problems.push(`${c.name}: no message`);
        else if (c.says && !c.says.test(message))
          problems.push(`${c.name}: "${message}" does not match ${c.says}`);
      } catch (err) {
        problems.push(`${c.name}: ${(err as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    // Still healthy: a good request is stamped.
    const ok = await send({ name: 'good', body: good, type: DER });
    expect(ok.status).toBe(200);
    expect((await parseTimestampResponse(ok.body)).status).toBe(0);
  });

  it('answers a JSON rejection to a DER client that accepts only JSON', async () => {
    const res = await fetch(`${server.url}/api/v1/timestamp`, {
      method: 'POST',
      headers: { 'content-type': DER, accept: 'application/json' },
      body: good.subarray(0, 10),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/not DER/);
  });
});
