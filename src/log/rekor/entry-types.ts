// The entry types the log accepts, each validated fully before it is appended: the spec against its schema,
// then every signature against the given key or certificate. What comes out is the canonical body (the leaf)
// and the search terms it is indexed under. Anything else is a FormatError / KeyError, which the API turns into
// a 400 that says what is wrong.
import { hash } from 'node:crypto';
import { verifyEcdsaDigests } from '../../crypto/index.js';
import {
  DSSE_KIND,
  DSSE_V001,
  dsseV001Body,
  FormatError,
  HASHEDREKORD_KIND,
  HASHEDREKORD_V001,
  hashedRekordV001Body,
  IN_TOTO_PAYLOAD_TYPE,
  INTOTO_KIND,
  INTOTO_V002,
  inTotoDigests,
  intotoV002Body,
  type ProposedEntry,
  pae,
  parseDsseV001,
  parseHashedRekordV001,
  parseIntotoV002,
  parseProposedEntry,
} from '../../formats/index.js';
import { parseVerificationKey, type VerificationKey } from './keys.js';
import { type HashedRekordV2Check, hashedRekordV2Result, parseV2Request } from './v2-entries.js';

export interface ValidatedEntry {
  kind: string;
  apiVersion: string;
  /** The canonical body: the leaf appended to the log. */
  body: Buffer;
  /** Search terms the entry is indexed under (see `term`). */
  terms: string[];
}

/** Search terms, namespaced so that a hash can never match a key or an email. */
export const term = {
  artifact: (algorithm: string, hex: string) => `hash:${algorithm}:${hex.toLowerCase()}`,
  key: (canonicalPem: string) => `key:${hash('sha256', canonicalPem, 'hex')}`,
  subject: (value: string) => `subject:${value.toLowerCase()}`,
};

function keyTerms(key: VerificationKey): string[] {
  return [term.key(key.canonicalPem), ...key.subjects.map(term.subject)];
}

interface EntryType {
  validate(spec: ProposedEntry['spec']): ValidatedEntry;
}

/** A hashedrekord proposal parsed and its key decoded, before its signature is checked. */
interface HashedRekordCheck {
  e: ReturnType<typeof parseHashedRekordV001>;
  key: VerificationKey;
}

function parseHashedRekord(spec: ProposedEntry['spec']): HashedRekordCheck {
  const e = parseHashedRekordV001(spec);
  const key = parseVerificationKey(e.publicKey);
  if (key.type === 'ed25519') {
    throw new FormatError(
      'hashedrekord with an Ed25519 key needs Ed25519ph, which this log does not support',
    );
  }
  return { e, key };
}

function hashedRekordResult({ e, key }: HashedRekordCheck, verified: boolean): ValidatedEntry {
  if (!verified) {
    throw new FormatError('verifying signature: the signature does not match the digest and public key');
  }
  return {
    kind: HASHEDREKORD_KIND,
    apiVersion: HASHEDREKORD_V001,
    body: hashedRekordV001Body(e, key.canonicalPem),
    terms: [...keyTerms(key), term.artifact(e.algorithm, e.digestHex)],
  };
}

const verifyHashedRekord = ({ e, key }: HashedRekordCheck) =>
  key.verifyDigest(e.algorithm, Buffer.from(e.digestHex, 'hex'), e.signature);

const validators: Record<string, Record<string, EntryType>> = {
  [HASHEDREKORD_KIND]: {
    [HASHEDREKORD_V001]: {
      validate: (spec) => {
        const check = parseHashedRekord(spec);
        return hashedRekordResult(check, verifyHashedRekord(check));
      },
    },
  },
};

function payloadTerms(payloadType: string, payload: Buffer, payloadHashHex: string): string[] {
  const out = [term.artifact('sha256', payloadHashHex)];
  if (payloadType === IN_TOTO_PAYLOAD_TYPE) {
    for (const d of inTotoDigests(payload)) out.push(term.artifact(d.algorithm, d.value));
  }
  return out;
}

const sha256hex = (b: Uint8Array) => hash('sha256', b, 'hex');

validators[DSSE_KIND] = {
  [DSSE_V001]: {
    validate(spec) {
      const p = parseDsseV001(spec);
      const message = pae(p.envelope.payloadType, p.envelope.payload);
      const unverified = new Set(p.envelope.signatures.map((_, i) => i));
      const verified: { sig: Buffer; canonicalPem: string }[] = [];
      const keys: VerificationKey[] = [];
      p.verifiers.forEach((pem, vi) => {
        const key = parseVerificationKey(pem);
        let used = false;
        for (const i of unverified) {
          const { sig } = p.envelope.signatures[i];
          if (key.verifyMessage(message, sig)) {
            verified.push({ sig, canonicalPem: key.canonicalPem });
            unverified.delete(i);
            used = true;
          }
        }
        if (!used)
          throw new FormatError(`could not verify envelope: verifier ${vi} verifies none of its signatures`);
        keys.push(key);
      });
      if (unverified.size > 0) {
        throw new FormatError(
          'could not verify envelope: every signature must be verified by one of the verifiers',
        );
      }
      return {
        kind: DSSE_KIND,
        apiVersion: DSSE_V001,
        body: dsseV001Body(p, verified),
        terms: [
          ...keys.flatMap(keyTerms),
          ...payloadTerms(p.envelope.payloadType, p.envelope.payload, sha256hex(p.envelope.payload)),
        ],
      };
    },
  },
};

validators[INTOTO_KIND] = {
  [INTOTO_V002]: {
    validate(spec) {
      const e = parseIntotoV002(spec);
      const message = pae(e.payloadType, e.payload);
      const keys = e.signatures.map((s, i) => {
        const key = parseVerificationKey(s.publicKey);
        if (!key.verifyMessage(message, s.sig)) {
          throw new FormatError(
            `could not verify envelope: signature ${i} does not verify with its publicKey`,
          );
        }
        return key;
      });
      return {
        kind: INTOTO_KIND,
        apiVersion: INTOTO_V002,
        body: intotoV002Body(e),
        terms: [...keys.flatMap(keyTerms), ...payloadTerms(e.payloadType, e.payload, sha256hex(e.payload))],
      };
    },
  },
};

export const SUPPORTED_TYPES = Object.entries(validators).flatMap(([kind, versions]) =>
  Object.keys(versions).map((v) => `${kind} ${v}`),
);

/**
 * A proposed entry as received: the request's JSON text (parsed where it is validated) or a parsed value; `api: 2`
 * for a Rekor v2 CreateEntryRequest (v2-entries.ts), else a Rekor v1 ProposedEntry.
 */
export type Proposal = ({ text: string } | { value: unknown }) & { api?: 2 };

function proposalValue(p: Proposal): unknown {
  if (!('text' in p)) return p.value;
  try {
    return JSON.parse(p.text);
  } catch (err) {
    throw new FormatError(`invalid JSON: ${(err as Error).message}`);
  }
}

/**
 * Validates many proposed entries at once: each result is the validated entry or the error that rejects it.
 * hashedrekord entries with ECDSA keys are verified together as one batch.
 */
export function validateEntries(proposals: Proposal[]): (ValidatedEntry | Error)[] {
  const out: (ValidatedEntry | Error)[] = new Array(proposals.length);
  const batch: { at: number; check: HashedRekordCheck }[] = [];
  const batchV2: { at: number; check: HashedRekordV2Check }[] = [];
  proposals.forEach((proposal, at) => {
    try {
      if (proposal.api === 2) {
        const r = parseV2Request(proposalValue(proposal));
        if ('batch' in r) batchV2.push({ at, check: r.batch });
        else out[at] = r.entry;
        return;
      }
      const entry = parseProposedEntry(proposalValue(proposal));
      if (entry.kind === HASHEDREKORD_KIND && entry.apiVersion === HASHEDREKORD_V001) {
        const check = parseHashedRekord(entry.spec);
        if (check.key.ecdsa) batch.push({ at, check });
        else out[at] = hashedRekordResult(check, verifyHashedRekord(check));
      } else out[at] = validateEntry(entry);
    } catch (err) {
      out[at] = err instanceof Error ? err : new Error(String(err));
    }
  });
  const ecdsa = (key: VerificationKey) => key.ecdsa as NonNullable<VerificationKey['ecdsa']>;
  const verified = verifyEcdsaDigests([
    ...batch.map(({ check: { e, key } }) => ({
      curve: ecdsa(key).curve,
      q: ecdsa(key).point,
      digest: Buffer.from(e.digestHex, 'hex'),
      signature: e.signature,
    })),
    ...batchV2.map(({ check: { request, key } }) => ({
      curve: ecdsa(key).curve,
      q: ecdsa(key).point,
      digest: request.digest,
      signature: request.signature,
    })),
  ]);
  batch.forEach(({ at, check }, i) => {
    try {
      out[at] = hashedRekordResult(check, verified[i]);
    } catch (err) {
      out[at] = err as Error;
    }
  });
  batchV2.forEach(({ at, check }, i) => {
    try {
      out[at] = hashedRekordV2Result(check, verified[batch.length + i]);
    } catch (err) {
      out[at] = err as Error;
    }
  });
  return out;
}

export function validateEntry(entry: ProposedEntry): ValidatedEntry {
  const versions = validators[entry.kind];
  if (!versions) {
    throw new FormatError(`unsupported entry kind "${entry.kind}"; supported: ${SUPPORTED_TYPES.join(', ')}`);
  }
  const validate = versions[entry.apiVersion];
  if (!validate) {
    throw new FormatError(
      `unsupported ${entry.kind} apiVersion "${entry.apiVersion}"; supported: ${Object.keys(versions).join(', ')}`,
    );
  }
  return validate.validate(entry.spec);
}
