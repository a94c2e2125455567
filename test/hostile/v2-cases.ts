// The Rekor v2 log's and the TSA's share of the hostile-input corpus (#14): every field of a hashedrekord v0.0.2
// and a dsse v0.0.2 request mutated, unknown members, every PublicKeyDetails name against a key it does not
// describe, digests of the wrong length, pure Ed25519, bodies that are not JSON objects, wrong content types,
// hostile tile paths; and sigstore's JSON timestamp request mutated the same way. (Malformed DER timestamp
// queries are test/tsa/bad-input.test.ts.) Every case must get a 4xx with a JSON message.
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { fieldMutations, mutate, NOT_AN_OBJECT, unknownMembers, WRONG_CONTENT_TYPES } from './mutations.js';
import { type Case, distinct, postCase } from './stack.js';

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });

const KEY_DETAILS = [
  'PKIX_ECDSA_P256_SHA_256',
  'PKIX_ECDSA_P384_SHA_384',
  'PKIX_ECDSA_P521_SHA_512',
  'PKIX_RSA_PKCS1V15_2048_SHA256',
  'PKIX_RSA_PKCS1V15_3072_SHA256',
  'PKIX_RSA_PKCS1V15_4096_SHA256',
  'PKIX_RSA_PSS_2048_SHA256',
  'PKIX_RSA_PSS_3072_SHA256',
  'PKIX_RSA_PSS_4096_SHA256',
  'PKIX_ED25519',
  'PKIX_ED25519_PH',
  'PUBLIC_KEY_DETAILS_UNSPECIFIED',
  'PKCS1_RSA_PKCS1V5',
  'pkix_ecdsa_p256_sha_256',
  'ECDSA_P256',
];

export function v2Cases(): Case[] {
  const out: Case[] = [];
  const post = (name: string, path: string, body: unknown, contentType?: string) =>
    out.push(postCase(name, path, body, contentType));
  const entries = '/api/v2/log/entries';

  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const artifact = Buffer.from('hostile corpus v2');
  const digest = createHash('sha256').update(artifact).digest();
  const signature = sign('sha256', artifact, p256.privateKey);
  const hashedRekord = {
    hashedRekordRequestV002: {
      digest: b64(digest),
      signature: {
        content: b64(signature),
        verifier: {
          publicKey: { rawBytes: b64(spki(p256.publicKey)) },
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        },
      },
    },
  };
  const type = 'application/vnd.in-toto+json';
  const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
  const dsse = {
    dsseRequestV002: {
      envelope: {
        payloadType: type,
        payload: b64(payload),
        signatures: [{ sig: b64(sign('sha256', pae, p256.privateKey)), keyid: '' }],
      },
      verifiers: [
        { publicKey: { rawBytes: b64(spki(p256.publicKey)) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
      ],
    },
  };

  for (const [name, body] of fieldMutations(hashedRekord)) post(`v2 hashedrekord ${name}`, entries, body);
  for (const [name, body] of unknownMembers(hashedRekord)) post(`v2 hashedrekord ${name}`, entries, body);
  for (const [name, body] of fieldMutations(dsse, {
    // keyid is optional and free text; the payload type is the envelope's own business.
    optional: ['dsseRequestV002.envelope.signatures.0.keyid'],
    allowed: {
      'dsseRequestV002.envelope.signatures.0.keyid': [
        'empty string',
        'spaces',
        'control characters',
        'CRLF',
        'unicode',
        'emoji',
        'lone surrogate',
        'invalid base64',
        'base64 of garbage',
        'bad DER',
        'path traversal',
        'long string',
      ],
    },
  }))
    post(`v2 dsse ${name}`, entries, body);
  for (const [name, body] of unknownMembers(dsse)) post(`v2 dsse ${name}`, entries, body);
  post('v2 both request kinds', entries, { ...hashedRekord, ...dsse });
  post('v2 a v1 proposed entry', entries, { kind: 'hashedrekord', apiVersion: '0.0.1', spec: {} });
  post('v2 snake_case field names', entries, {
    hashed_rekord_request_v002: hashedRekord.hashedRekordRequestV002,
  });
  for (const details of KEY_DETAILS.filter((d) => d !== 'PKIX_ECDSA_P256_SHA_256'))
    post(
      `v2 keyDetails ${details} for a P-256 key`,
      entries,
      mutate(hashedRekord, 'hashedRekordRequestV002.signature.verifier.keyDetails', details),
    );
  for (const len of [0, 1, 20, 31, 33, 48, 64, 1024])
    post(
      `v2 digest of ${len} bytes`,
      entries,
      mutate(hashedRekord, 'hashedRekordRequestV002.digest', b64(Buffer.alloc(len, 7))),
    );
  const ed = generateKeyPairSync('ed25519');
  post('v2 pure Ed25519', entries, {
    hashedRekordRequestV002: {
      digest: b64(digest),
      signature: {
        content: b64(sign(null, artifact, ed.privateKey)),
        verifier: { publicKey: { rawBytes: b64(spki(ed.publicKey)) }, keyDetails: 'PKIX_ED25519' },
      },
    },
  });
  post('v2 certificate that is a key', entries, {
    hashedRekordRequestV002: {
      ...hashedRekord.hashedRekordRequestV002,
      signature: {
        content: b64(signature),
        verifier: {
          x509Certificate: { rawBytes: b64(spki(p256.publicKey)) },
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        },
      },
    },
  });
  post(
    'v2 key and certificate both',
    entries,
    mutate(hashedRekord, 'hashedRekordRequestV002.signature.verifier.x509Certificate', {
      rawBytes: b64(spki(p256.publicKey)),
    }),
  );
  post(
    'v2 signature by another key',
    entries,
    mutate(
      hashedRekord,
      'hashedRekordRequestV002.signature.content',
      b64(sign('sha256', artifact, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)),
    ),
  );
  post(
    'v2 signature over other bytes',
    entries,
    mutate(
      hashedRekord,
      'hashedRekordRequestV002.digest',
      b64(createHash('sha256').update('other').digest()),
    ),
  );
  post(
    'v2 dsse signature over the payload, not the PAE',
    entries,
    mutate(dsse, 'dsseRequestV002.envelope.signatures.0.sig', b64(sign('sha256', payload, p256.privateKey))),
  );
  post('v2 dsse no verifiers', entries, mutate(dsse, 'dsseRequestV002.verifiers', []));
  post('v2 dsse no signatures', entries, mutate(dsse, 'dsseRequestV002.envelope.signatures', []));
  for (const [name, raw] of NOT_AN_OBJECT) post(`v2 entry body ${name}`, entries, raw);
  for (const ct of WRONG_CONTENT_TYPES) post(`v2 entry as ${ct}`, entries, hashedRekord, ct);
  for (const path of [
    'tile/0/999',
    'tile/0/x001/000',
    'tile/0/000.p/0',
    'tile/0/000.p/256',
    'tile/0/000.p/x',
    'tile/-1/000',
    'tile/64/000',
    'tile/entries/999',
    'tile/entries/000.p/999',
    'tile/../checkpoint',
    'tile/0/%2e%2e',
    'tile/',
    'tile/abc/def',
    'tile/0/0000',
  ])
    out.push({ name: `v2 GET ${path}`, method: 'GET', path: `/api/v2/${path}` });

  // sigstore's JSON timestamp request.
  const stamp = '/api/v1/timestamp';
  const request = {
    artifactHash: b64(digest),
    hashAlgorithm: 'sha256',
    certificates: true,
    nonce: 1234,
    tsaPolicyOID: '1.3.6.1.4.1.57264.2',
  };
  for (const [name, body] of fieldMutations(request, {
    optional: ['certificates', 'nonce', 'tsaPolicyOID'],
    allowed: { certificates: ['true', 'false'], nonce: ['null'] },
  }))
    post(`tsa json ${name}`, stamp, body);
  for (const [name, body] of unknownMembers(request)) post(`tsa json ${name}`, stamp, body);
  for (const [name, raw] of NOT_AN_OBJECT) post(`tsa json body ${name}`, stamp, raw);
  for (const ct of WRONG_CONTENT_TYPES) post(`tsa request as ${ct}`, stamp, request, ct);
  return distinct(out);
}
