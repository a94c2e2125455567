// The explorer's calls to the services' public HTTP APIs on its own origin (the page is served by `sigil up` beside
// them): Rekor v1 (/api/v1/log…, /api/v1/index/retrieve), the v2 checkpoint and the trusted root. No other way in.
import { fromBase64, pemBlock } from './bytes.js';
import type { InclusionProof } from './checks.js';

export interface LogEntry {
  uuid: string;
  entryId: string;
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification?: { signedEntryTimestamp?: string; inclusionProof?: InclusionProof };
}

export interface LogInfo {
  rootHash: string;
  treeSize: number;
  signedTreeHead: string;
  treeID?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call(path: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(path, { ...init, headers: { accept: 'application/json', ...init?.headers } });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const j = (await res.json()) as { message?: unknown };
      if (typeof j.message === 'string') message = `${res.status}: ${j.message}`;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, message);
  }
  return res;
}

const postJson = (path: string, body: unknown) =>
  call(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/** The entry UUID is the last 64 hex digits of the entry ID (16 hex of tree ID + 64 hex of leaf hash). */
const uuidOf = (entryId: string) => entryId.slice(-64);

function entries(answer: unknown): LogEntry[] {
  const list = Array.isArray(answer) ? answer : [answer];
  const out: LogEntry[] = [];
  for (const item of list)
    for (const [entryId, e] of Object.entries(item as Record<string, Omit<LogEntry, 'uuid' | 'entryId'>>))
      out.push({ ...e, entryId, uuid: uuidOf(entryId) });
  return out;
}

export async function entryByUuid(uuid: string): Promise<LogEntry> {
  return entries(await (await call(`/api/v1/log/entries/${encodeURIComponent(uuid)}`)).json())[0];
}

export async function entryByIndex(index: number): Promise<LogEntry> {
  return entries(await (await call(`/api/v1/log/entries?logIndex=${index}`)).json())[0];
}

/** Entries by UUID or index, ten to a request (Rekor's limit per list). */
export async function retrieve(what: { entryUUIDs?: string[]; logIndexes?: number[] }): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  const uuids = what.entryUUIDs ?? [];
  const indexes = what.logIndexes ?? [];
  for (let i = 0; i < uuids.length; i += 10)
    out.push(
      ...entries(
        await (await postJson('/api/v1/log/entries/retrieve', { entryUUIDs: uuids.slice(i, i + 10) })).json(),
      ),
    );
  for (let i = 0; i < indexes.length; i += 10)
    out.push(
      ...entries(
        await (
          await postJson('/api/v1/log/entries/retrieve', { logIndexes: indexes.slice(i, i + 10) })
        ).json(),
      ),
    );
  return out;
}

export type SearchQuery =
  | { email: string }
  | { subject: string }
  | { hash: string }
  | { publicKey: { format: 'x509'; content: string } };

/** UUIDs (or entry IDs) of matching entries. */
export async function search(q: SearchQuery): Promise<string[]> {
  return ((await (await postJson('/api/v1/index/retrieve', q)).json()) as string[]).map(uuidOf);
}

export async function logInfo(): Promise<LogInfo> {
  return (await (await call('/api/v1/log')).json()) as LogInfo;
}

export async function consistencyProof(first: number, last: number): Promise<string[]> {
  const j = (await (await call(`/api/v1/log/proof?firstSize=${first}&lastSize=${last}`)).json()) as {
    hashes: string[];
  };
  return j.hashes;
}

/** The v1 log's public key: PEM text and its DER SubjectPublicKeyInfo. */
export async function logPublicKey(): Promise<{ pem: string; spki: Uint8Array }> {
  const pem = await (await call('/api/v1/log/publicKey')).text();
  const spki = pemBlock(pem, 'PUBLIC KEY');
  if (!spki) throw new Error('the log did not serve a PEM public key');
  return { pem, spki };
}

export async function v2Checkpoint(): Promise<string | undefined> {
  try {
    return await (await call('/api/v2/checkpoint')).text();
  } catch {
    return undefined;
  }
}

/** The transparency logs' keys the trusted root names (for the v2 log's checkpoint). */
export async function trustedLogKeys(): Promise<{ baseUrl: string; spki: Uint8Array }[]> {
  try {
    const root = (await (await call('/trusted_root.json')).json()) as {
      tlogs?: { baseUrl?: string; publicKey?: { rawBytes?: string } }[];
    };
    return (root.tlogs ?? [])
      .filter((t) => t.publicKey?.rawBytes)
      .map((t) => ({ baseUrl: t.baseUrl ?? '', spki: fromBase64(t.publicKey?.rawBytes ?? '') }));
  } catch {
    return [];
  }
}

/** The CT logs' keys the trusted root names (for the CT log's signed tree heads). */
export async function trustedCtKeys(): Promise<{ baseUrl: string; spki: Uint8Array }[]> {
  const root = (await (await call('/trusted_root.json')).json()) as {
    ctlogs?: { baseUrl?: string; publicKey?: { rawBytes?: string } }[];
  };
  return (root.ctlogs ?? [])
    .filter((t) => t.publicKey?.rawBytes)
    .map((t) => ({ baseUrl: t.baseUrl ?? '', spki: fromBase64(t.publicKey?.rawBytes ?? '') }));
}

/** One tile of the Rekor v2 log (C2SP tlog-tiles under /api/v2), as bytes. */
export async function v2Tile(path: string): Promise<Uint8Array> {
  return new Uint8Array(await (await call(`/api/v2/${path}`, { headers: { accept: '*/*' } })).arrayBuffer());
}

// RFC 6962 §4 on sigil's CT log (/ct/v1/…).

export async function ctSth(): Promise<unknown> {
  return (await call('/ct/v1/get-sth')).json();
}

/** leaf_input of entries [start, end] (the log may answer fewer: §4.6). */
export async function ctEntries(start: number, end: number): Promise<string[]> {
  const j = (await (await call(`/ct/v1/get-entries?start=${start}&end=${end}`)).json()) as {
    entries?: { leaf_input?: unknown }[];
  };
  return (j.entries ?? []).map((e) => String(e.leaf_input ?? ''));
}

export async function ctProof(leafHashB64: string, size: number): Promise<{ index: number; path: string[] }> {
  const j = (await (
    await call(`/ct/v1/get-proof-by-hash?hash=${encodeURIComponent(leafHashB64)}&tree_size=${size}`)
  ).json()) as { leaf_index: number; audit_path: string[] };
  return { index: j.leaf_index, path: j.audit_path };
}
