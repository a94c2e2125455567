// Client of a Rekor-compatible transparency log (sigstore/rekor openapi.yaml, the v1 REST API): propose entries
// (hashedrekord v0.0.1, dsse v0.0.1), read them back by index or UUID, the log info (tree size, root, signed
// checkpoint), consistency proofs and the search index. Entries are turned into the bundle's
// TransparencyLogEntry JSON (sigstore_rekor.proto) here, once.
import { createHash } from 'node:crypto';
import type { RekorLogEntry, RekorLogInfo } from '../formats/rekor-entry.js';
import { SignError } from './errors.js';
import { type HttpOptions, joinUrl, requestJson, requestText } from './http.js';

export interface RekorEntry extends RekorLogEntry {
  uuid: string;
}

export interface ProposedEntry {
  kind: string;
  apiVersion: string;
  spec: Record<string, unknown>;
}

/** hashedrekord v0.0.1 (pkg/types/hashedrekord/v0.0.1/hashedrekord_v0_0_1_schema.json). */
export function hashedRekordProposal(
  digestHex: string,
  signature: Buffer,
  signerPem: string,
  algorithm = 'sha256',
): ProposedEntry {
  return {
    kind: 'hashedrekord',
    apiVersion: '0.0.1',
    spec: {
      signature: {
        content: signature.toString('base64'),
        publicKey: { content: Buffer.from(signerPem, 'utf8').toString('base64') },
      },
      data: { hash: { algorithm, value: digestHex } },
    },
  };
}

/** dsse v0.0.1 (pkg/types/dsse/v0.0.1/dsse_v0_0_1_schema.json): the envelope as JSON text and the verifiers. */
export function dsseProposal(envelopeJson: string, signerPem: string): ProposedEntry {
  return {
    kind: 'dsse',
    apiVersion: '0.0.1',
    spec: {
      proposedContent: {
        envelope: envelopeJson,
        verifiers: [Buffer.from(signerPem, 'utf8').toString('base64')],
      },
    },
  };
}

function onlyEntry(body: Record<string, RekorLogEntry> | undefined, what: string): RekorEntry {
  const keys = body && typeof body === 'object' ? Object.keys(body) : [];
  if (keys.length !== 1) throw new SignError('LOG_ERROR', `${what}: expected one entry, got ${keys.length}`);
  const e = body![keys[0]];
  if (typeof e?.body !== 'string' || typeof e.logIndex !== 'number' || typeof e.logID !== 'string') {
    throw new SignError('LOG_ERROR', `${what}: the entry lacks body, logIndex or logID`);
  }
  return { uuid: keys[0], ...e };
}

/** Rekor's UUID is the leaf hash (64 hex), optionally prefixed by a 16-hex tree ID. */
export function leafHashOfUuid(uuid: string): string {
  if (!/^([0-9a-f]{16})?[0-9a-f]{64}$/.test(uuid)) {
    throw new SignError('INPUT_ERROR', `"${uuid}" is not a Rekor entry UUID (64 or 80 hex characters)`);
  }
  return uuid.slice(-64);
}

export class RekorClient {
  constructor(
    readonly baseUrl: string,
    private readonly options: HttpOptions = {},
  ) {}

  private url(path: string): string {
    return joinUrl(this.baseUrl, path);
  }

  /** POST /api/v1/log/entries; an entry already in the log (409) is fetched and returned instead. */
  async createEntry(proposed: ProposedEntry): Promise<RekorEntry> {
    const res = await requestJson<Record<string, RekorLogEntry>>(
      'LOG_ERROR',
      'transparency log upload',
      this.url('/api/v1/log/entries'),
      { body: proposed, ok: [409] },
      this.options,
    );
    if (res.status === 409) {
      const location = res.headers.get('location');
      const uuid = location?.split('/').pop();
      if (!uuid)
        throw new SignError(
          'LOG_ERROR',
          'transparency log upload: 409 without a Location of the existing entry',
        );
      return this.getByUuid(uuid);
    }
    return onlyEntry(res.body, 'transparency log upload');
  }

  async getByIndex(logIndex: number): Promise<RekorEntry> {
    if (!Number.isSafeInteger(logIndex) || logIndex < 0)
      throw new SignError('INPUT_ERROR', `log index must be a non-negative integer (got ${logIndex})`);
    const res = await requestJson<Record<string, RekorLogEntry>>(
      'LOG_ERROR',
      `log entry ${logIndex}`,
      this.url(`/api/v1/log/entries?logIndex=${logIndex}`),
      {},
      this.options,
    );
    return onlyEntry(res.body, `log entry ${logIndex}`);
  }

  async getByUuid(uuid: string): Promise<RekorEntry> {
    leafHashOfUuid(uuid);
    const res = await requestJson<Record<string, RekorLogEntry>>(
      'LOG_ERROR',
      `log entry ${uuid}`,
      this.url(`/api/v1/log/entries/${uuid}`),
      {},
      this.options,
    );
    return onlyEntry(res.body, `log entry ${uuid}`);
  }

  async logInfo(): Promise<RekorLogInfo> {
    const res = await requestJson<RekorLogInfo>(
      'LOG_ERROR',
      'log info',
      this.url('/api/v1/log'),
      {},
      this.options,
    );
    const b = res.body;
    if (
      typeof b?.treeSize !== 'number' ||
      typeof b.rootHash !== 'string' ||
      typeof b.signedTreeHead !== 'string'
    ) {
      throw new SignError('LOG_ERROR', 'log info: answer lacks treeSize, rootHash or signedTreeHead');
    }
    return b;
  }

  /** GET /api/v1/log/proof: hashes proving the tree of size firstSize is a prefix of the one of size lastSize. */
  async consistencyProof(
    firstSize: number,
    lastSize: number,
  ): Promise<{ rootHash: string; hashes: string[] }> {
    const res = await requestJson<{ rootHash: string; hashes?: string[] }>(
      'LOG_ERROR',
      'consistency proof',
      this.url(`/api/v1/log/proof?firstSize=${firstSize}&lastSize=${lastSize}`),
      {},
      this.options,
    );
    return { rootHash: res.body?.rootHash, hashes: res.body?.hashes ?? [] };
  }

  /** POST /api/v1/index/retrieve: UUIDs of entries for an artifact hash, a public key or an email. */
  async searchIndex(query: {
    hash?: string;
    email?: string;
    publicKey?: { format: string; content: string };
  }): Promise<string[]> {
    const res = await requestJson<string[]>(
      'LOG_ERROR',
      'index search',
      this.url('/api/v1/index/retrieve'),
      { body: query },
      this.options,
    );
    return Array.isArray(res.body) ? res.body.map(String) : [];
  }

  async publicKeyPem(): Promise<string> {
    return requestText('LOG_ERROR', 'log public key', this.url('/api/v1/log/publicKey'), this.options);
  }
}

/** The decoded entry body: kind and apiVersion decide the bundle's kindVersion. */
export function entryBody(entry: RekorLogEntry): { kind: string; apiVersion: string; spec: unknown } {
  let body: { kind?: unknown; apiVersion?: unknown; spec?: unknown };
  try {
    body = JSON.parse(Buffer.from(entry.body, 'base64').toString('utf8'));
  } catch {
    throw new SignError('LOG_ERROR', `log entry ${entry.logIndex}: body is not base64 JSON`);
  }
  if (typeof body?.kind !== 'string' || typeof body.apiVersion !== 'string') {
    throw new SignError('LOG_ERROR', `log entry ${entry.logIndex}: body lacks kind or apiVersion`);
  }
  return { kind: body.kind, apiVersion: body.apiVersion, spec: body.spec };
}

/** RFC 6962 leaf hash of the entry body: the UUID's last 64 hex characters. */
export function leafHash(entry: RekorLogEntry): string {
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(Buffer.from(entry.body, 'base64'))
    .digest('hex');
}

/** sigstore_rekor.proto TransparencyLogEntry in its JSON mapping, for a bundle. */
export function toBundleTlogEntry(entry: RekorLogEntry): Record<string, unknown> {
  const { kind, apiVersion } = entryBody(entry);
  const proof = entry.verification?.inclusionProof;
  const set = entry.verification?.signedEntryTimestamp;
  return {
    logIndex: String(entry.logIndex),
    logId: { keyId: Buffer.from(entry.logID, 'hex').toString('base64') },
    kindVersion: { kind, version: apiVersion },
    integratedTime: String(entry.integratedTime),
    ...(set ? { inclusionPromise: { signedEntryTimestamp: set } } : {}),
    ...(proof
      ? {
          inclusionProof: {
            logIndex: String(proof.logIndex),
            rootHash: Buffer.from(proof.rootHash, 'hex').toString('base64'),
            treeSize: String(proof.treeSize),
            hashes: (proof.hashes ?? []).map((h) => Buffer.from(h, 'hex').toString('base64')),
            checkpoint: { envelope: proof.checkpoint ?? '' },
          },
        }
      : {}),
    canonicalizedBody: entry.body,
  };
}

/** cosign's `dev.sigstore.cosign/bundle` annotation (SIGNATURE_SPEC.md): the SET and what it signs. */
export function cosignRekorBundle(entry: RekorLogEntry) {
  const set = entry.verification?.signedEntryTimestamp;
  if (!set)
    throw new SignError(
      'LOG_ERROR',
      `log entry ${entry.logIndex} came back without a signed entry timestamp`,
    );
  return {
    SignedEntryTimestamp: set,
    Payload: {
      body: entry.body,
      integratedTime: entry.integratedTime,
      logIndex: entry.logIndex,
      logID: entry.logID,
    },
  };
}
