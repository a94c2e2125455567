// DSSE envelopes (secure-systems-lab/dsse envelope.md, protocol.md) and Rekor's "dsse" v0.0.1 entry
// (sigstore/rekor pkg/types/dsse/v0.0.1/dsse_v0_0_1_schema.json): a proposal carries the envelope as a JSON string
// plus the verifiers (base64 PEM keys or certificates); the canonical body keeps the envelope and payload hashes
// and the signatures with the verifier that checked each one, sorted by signature.
import { createHash } from 'node:crypto';
import {
  canonicalJson,
  decodeBase64,
  expectArray,
  expectObject,
  expectString,
  FormatError,
  type JsonObject,
  onlyKeys,
  type ProposedEntry,
} from './rekor-entry.js';

export const DSSE_KIND = 'dsse';
export const DSSE_V001 = '0.0.1';
// The payload type and PAE (protocol.md) are defined once in dsse-envelope.ts; `pae` is the name the log uses.
export { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding as pae } from './dsse-envelope.js';

export interface DsseSignature {
  keyid?: string;
  sig: Buffer;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: Buffer;
  signatures: DsseSignature[];
}

export function parseDsseEnvelope(json: unknown, path: string): DsseEnvelope {
  const o = expectObject(json, path);
  const payloadType = expectString(o.payloadType, `${path}.payloadType`);
  const payload = decodeBase64(o.payload, `${path}.payload`, { allowEmpty: true });
  const sigs = expectArray(o.signatures, `${path}.signatures`);
  if (sigs.length === 0) throw new FormatError(`${path}.signatures must hold at least one signature`);
  const signatures = sigs.map((s, i) => {
    const so = expectObject(s, `${path}.signatures[${i}]`);
    const keyid =
      so.keyid === undefined ? undefined : expectString(so.keyid, `${path}.signatures[${i}].keyid`);
    return { keyid, sig: decodeBase64(so.sig, `${path}.signatures[${i}].sig`) };
  });
  return { payloadType, payload, signatures };
}

export interface DsseV001Proposal {
  /** The envelope JSON exactly as sent (its hash is recorded). */
  envelopeJson: string;
  envelope: DsseEnvelope;
  /** PEM bytes of each verifier. */
  verifiers: Buffer[];
}

/** The proposal a client sends: the envelope as JSON text and the signer's PEM (key or certificate). */
export function dsseProposal(envelopeJson: string, signerPem: string): ProposedEntry {
  return {
    kind: DSSE_KIND,
    apiVersion: DSSE_V001,
    spec: {
      proposedContent: {
        envelope: envelopeJson,
        verifiers: [Buffer.from(signerPem, 'utf8').toString('base64')],
      },
    },
  };
}

/** Rekor's Go models send server-computed fields as `null` or `[]` when unset; those count as absent. */
const unset = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0);

export function parseDsseV001(spec: JsonObject): DsseV001Proposal {
  // As rekor's dsse v0.0.1 Unmarshal: a proposal must not set the fields the log computes.
  if (!unset(spec.signatures) || !unset(spec.envelopeHash) || !unset(spec.payloadHash)) {
    throw new FormatError(
      'spec.signatures, spec.envelopeHash and spec.payloadHash are computed by the log; send only spec.proposedContent',
    );
  }
  onlyKeys(spec, ['proposedContent', 'signatures', 'envelopeHash', 'payloadHash'], 'spec');
  const pc = expectObject(spec.proposedContent, 'spec.proposedContent');
  const envelopeJson = expectString(pc.envelope, 'spec.proposedContent.envelope');
  let parsed: unknown;
  try {
    parsed = JSON.parse(envelopeJson);
  } catch {
    throw new FormatError('spec.proposedContent.envelope is not valid JSON');
  }
  const envelope = parseDsseEnvelope(parsed, 'envelope');
  const list = expectArray(pc.verifiers, 'spec.proposedContent.verifiers');
  if (list.length === 0)
    throw new FormatError('spec.proposedContent.verifiers must hold at least one verifier');
  const verifiers = list.map((v, i) => decodeBase64(v, `spec.proposedContent.verifiers[${i}]`));
  return { envelopeJson, envelope, verifiers };
}

const sha256hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** The canonical body; `verified` pairs each signature with the canonical PEM of the key that checked it. */
export function dsseV001Body(p: DsseV001Proposal, verified: { sig: Buffer; canonicalPem: string }[]): Buffer {
  const signatures = verified
    .map((v) => ({
      signature: v.sig.toString('base64'),
      verifier: Buffer.from(v.canonicalPem).toString('base64'),
    }))
    .sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  return canonicalJson({
    apiVersion: DSSE_V001,
    kind: DSSE_KIND,
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256hex(p.envelopeJson) },
      payloadHash: { algorithm: 'sha256', value: sha256hex(p.envelope.payload) },
      signatures,
    },
  });
}

/** Subject (and SLSA material) digests of an in-toto statement, as "alg:hex"; [] if it is not one. */
export function inTotoDigests(payload: Buffer): { algorithm: string; value: string }[] {
  try {
    const st = JSON.parse(payload.toString('utf8')) as {
      subject?: { digest?: Record<string, unknown> }[];
      predicate?: { materials?: { digest?: Record<string, unknown> }[] };
    };
    const out: { algorithm: string; value: string }[] = [];
    for (const item of [...(st.subject ?? []), ...(st.predicate?.materials ?? [])]) {
      for (const [algorithm, value] of Object.entries(item?.digest ?? {})) {
        if (typeof value === 'string') out.push({ algorithm, value });
      }
    }
    return out;
  } catch {
    return [];
  }
}
