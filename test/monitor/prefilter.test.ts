// The monitor's prefilter (src/monitor/entries.ts) must never skip an entry that names the watched identity: only
// certificates lacking the rule's exact bytes are left unparsed. Real certificates (ECDSA-signed, strict DER) with
// the identity only in an email SAN, only in a URI SAN, or in a Fulcio username otherName, carried as base64 PEM
// (Rekor v1, LF and CRLF lines, second in a chain), as base64 DER (Rekor v2) and in a JSON body with escapes, are
// served as a tiles log; each rule (exact, regular expression, with the issuer in a v1 or v2 extension) must report
// exactly the entries the unfiltered reading matches, in the main thread and in scan workers alike.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bitString,
  explicit,
  implicit,
  oid,
  seq,
  smallInteger,
  time,
  tlv,
  toPem,
  unsignedInteger,
  utf8,
} from '../../src/formats/index.js';
import {
  certificateCandidates,
  entryIdentities,
  type IdentityRule,
  identityOf,
  matchIdentity,
  mayMatch,
  monitorPass,
  prefilterFor,
  trustFromKey,
} from '../../src/monitor/index.js';
import { type TilesView, view } from './tiles-log.js';

const ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const USERNAME = '1.3.6.1.4.1.57264.1.7';
const leafKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

type San = { email: string } | { uri: string } | { username: string };

/** A self-issued leaf with one SAN and Fulcio's issuer extension (v1: raw bytes, v2: a UTF8String). */
function certificate(san: San, issuer: { v1?: string; v2?: string }): Buffer {
  const name =
    'email' in san
      ? implicit(1, Buffer.from(san.email, 'latin1'))
      : 'uri' in san
        ? implicit(6, Buffer.from(san.uri, 'latin1'))
        : explicit(0, oid(USERNAME), explicit(0, utf8(san.username)));
  const ext = (id: string, value: Buffer) => seq(oid(id), tlv(0x04, value));
  const extensions = [ext('2.5.29.17', seq(name))];
  if (issuer.v1) extensions.push(ext(ISSUER_V1, Buffer.from(issuer.v1)));
  if (issuer.v2) extensions.push(ext(ISSUER_V2, utf8(issuer.v2)));
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const now = Date.now();
  const tbs = seq(
    explicit(0, smallInteger(2)),
    unsignedInteger(randomBytes(8)),
    ecdsaSha256,
    seq(),
    seq(time(new Date(now)), time(new Date(now + 600_000))),
    seq(),
    leafKey.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  return seq(tbs, ecdsaSha256, bitString(sign('sha256', tbs, leafKey.privateKey)));
}

const ALICE = 'alice@example.com';
const WORKFLOW = 'https://github.com/octo/repo/.github/workflows/release.yml@refs/heads/main';
const V1_ISSUER = 'https://token.actions.githubusercontent.com';
const V2_ISSUER = 'https://accounts.example.com';

const alice = certificate({ email: ALICE }, { v2: V2_ISSUER });
const workflow = certificate({ uri: WORKFLOW }, { v1: V1_ISSUER });
const username = certificate({ username: 'bob!example.com' }, { v2: V2_ISSUER });
const stranger = certificate({ email: 'mallory@example.net' }, { v1: V1_ISSUER, v2: V2_ISSUER });

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
/** Rekor v1 hashedrekord: the certificate as base64 of its PEM. */
const hashedrekord = (pem: string) =>
  Buffer.from(
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: randomBytes(32).toString('hex') } },
        signature: { content: b64(randomBytes(70)), publicKey: { content: b64(pem) } },
      },
    }),
  );
/** Rekor v2: the certificate as base64 DER. */
const v2 = (der: Buffer) =>
  Buffer.from(
    JSON.stringify({
      kind: 'hashedrekord',
      apiVersion: '0.0.2',
      spec: {
        hashedRekordV002: {
          data: { algorithm: 'SHA2_256', digest: b64(randomBytes(32)) },
          signature: { content: b64(randomBytes(70)), verifier: { x509Certificate: { rawBytes: b64(der) } } },
        },
      },
    }),
  );
/** A DSSE-shaped body whose JSON escapes its slashes: only the JSON parser reads it right. */
const escaped = (pem: string) =>
  Buffer.from(
    JSON.stringify({
      kind: 'dsse',
      spec: { signatures: [{ verifier: b64(pem), signature: 'c2ln' }] },
    }).replace(/\//g, '\\/'),
  );

const entries: { bytes: Buffer; cert: Buffer | undefined }[] = [
  { bytes: hashedrekord(toPem(alice)), cert: alice },
  { bytes: hashedrekord(toPem(stranger)), cert: stranger },
  { bytes: v2(workflow), cert: workflow },
  { bytes: hashedrekord(toPem(workflow).replace(/\n/g, '\r\n')), cert: workflow },
  // A chain: the stranger first, the watched leaf second.
  { bytes: hashedrekord(toPem(stranger) + toPem(alice)), cert: alice },
  { bytes: escaped(toPem(alice)), cert: alice },
  { bytes: escaped(toPem(workflow)), cert: workflow },
  { bytes: v2(username), cert: username },
  { bytes: v2(stranger), cert: stranger },
  { bytes: Buffer.from('{"kind":"hashedrekord","spec":{"publicKey":"not a certificate"}}'), cert: undefined },
];

const RULES: [string, IdentityRule][] = [
  ['an email SAN, exact', { identity: ALICE }],
  ['an email SAN with its v2 issuer', { identity: ALICE, issuer: V2_ISSUER }],
  ['an email SAN with the wrong issuer', { identity: ALICE, issuer: V1_ISSUER }],
  ['a URI SAN, exact', { identity: WORKFLOW }],
  ['a URI SAN with its v1 issuer', { identity: WORKFLOW, issuer: V1_ISSUER }],
  ['a URI SAN by regular expression', { identityRegexp: /^https:\/\/github\.com\/octo\/repo\// }],
  ['an email SAN by regular expression and issuer', { identityRegexp: /^alice@/, issuer: V2_ISSUER }],
  [
    'an exact identity or a regular expression',
    { identity: ALICE, identityRegexp: /^https:\/\/github\.com\// },
  ],
  ['a username otherName', { identity: 'bob!example.com' }],
  ['an issuer extension by OID', { identity: WORKFLOW, oids: { [ISSUER_V1]: V1_ISSUER } }],
];

/**
 * What the rule matches, from the certificate each entry was built with (parsed directly, not found in the entry):
 * the reference the monitor must agree with. (In the chain, the stranger matches none of RULES.)
 */
function expected(rule: IdentityRule): number[] {
  return entries.flatMap((e, i) => {
    const id = e.cert && identityOf(e.cert);
    return id && matchIdentity(id, rule) !== undefined ? [i] : [];
  });
}

describe('the monitor prefilter', () => {
  let server: Server;
  let url: string;
  let current: TilesView;
  const log = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = log.publicKey.export({ type: 'spki', format: 'der' });
  const trust = trustFromKey(log.publicKey.export({ type: 'spki', format: 'pem' }) as string);

  beforeAll(async () => {
    current = view(
      entries.map((e) => e.bytes),
      log.privateKey,
      spki,
    );
    server = createServer((req, res) => {
      const body =
        req.url === '/checkpoint' ? Buffer.from(current.checkpoint) : current.bundles.get(req.url ?? '');
      if (!body) res.writeHead(404).end();
      else res.writeHead(200).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => server?.close());

  it('finds every certificate the JSON parser finds, in each carrier', () => {
    for (const e of entries) {
      const found = certificateCandidates(e.bytes);
      if (e.cert) expect(found.some((d) => d.equals(e.cert as Buffer))).toBe(true);
      else expect(found).toEqual([]);
    }
    // The PEM chain yields both certificates.
    expect(certificateCandidates(entries[4].bytes)).toHaveLength(2);
  });

  it('passes each watched certificate, and leaves the stranger out when it can', () => {
    expect(mayMatch(alice, prefilterFor({ identity: ALICE }))).toBe(true);
    expect(mayMatch(workflow, prefilterFor({ identity: WORKFLOW, issuer: V1_ISSUER }))).toBe(true);
    expect(mayMatch(username, prefilterFor({ identity: 'bob!example.com' }))).toBe(true);
    // The prefilter does filter: these are skipped without parsing.
    expect(mayMatch(stranger, prefilterFor({ identity: ALICE }))).toBe(false);
    expect(mayMatch(alice, prefilterFor({ identity: ALICE, issuer: V1_ISSUER }))).toBe(false);
    // A regular expression alone gives nothing to search for: every certificate is parsed.
    expect(prefilterFor({ identityRegexp: /alice/ })).toEqual([]);
    // A value UTF-8 decoding could produce from other bytes is not searched for.
    expect(prefilterFor({ identity: 'bob\uFFFD' })).toEqual([]);
  });

  for (const [what, rule] of RULES)
    for (const threads of [0, 2])
      it(`reports ${what} as the unfiltered reading does (${threads ? 'scan workers' : 'main thread'})`, async () => {
        const r = await monitorPass({ logUrl: url, trust, rule, threads });
        expect(r.entriesScanned).toBe(entries.length);
        expect(r.matches.map((m) => m.index)).toEqual(expected(rule));
      });

  it('reads the same identities from the entries, unfiltered', () => {
    for (const [, rule] of RULES)
      expect(
        entries.flatMap((e, i) =>
          entryIdentities(e.bytes).some((id) => matchIdentity(id, rule)) ? [i] : [],
        ),
      ).toEqual(expected(rule));
  });

  it('the reference itself sees each carrier', () => {
    expect(expected({ identity: ALICE })).toEqual([0, 4, 5]);
    expect(expected({ identity: WORKFLOW })).toEqual([2, 3, 6]);
    expect(expected({ identity: 'bob!example.com' })).toEqual([7]);
    expect(expected({ identity: ALICE, issuer: V1_ISSUER })).toEqual([]);
  });
});
