// Client of a Rekor-compatible transparency log (sigstore/rekor openapi.yaml, the v1 REST API): propose entries
// (formats/: hashedrekord v0.0.1, dsse v0.0.1), read them back by index or UUID, the log info (tree size, root,
// signed checkpoint), consistency proofs and the search index.
import type { ProposedEntry, RekorLogEntry, RekorLogInfo } from '../formats/index.js';
import { SignError } from './errors.js';
import { type HttpOptions, joinUrl, requestJson } from './http.js';

export interface RekorEntry extends RekorLogEntry {
  uuid: string;
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
function leafHashOfUuid(uuid: string): string {
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
}
