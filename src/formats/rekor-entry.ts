// Rekor v1 REST shapes (sigstore/rekor openapi.yaml), for the log and its clients alike: the ProposedEntry envelope
// {kind, apiVersion, spec} (each entry type's proposal and canonical body are in hashedrekord.ts, dsse.ts,
// intoto.ts), the LogEntry response keyed by entry ID and its form in a bundle, LogInfo, entry UUIDs (hex leaf
// hash) and entry IDs (16 hex tree ID + UUID), plus the small strict-JSON helpers the entry type modules use to say
// exactly which field is wrong.

/** A client error in a proposed entry or query: the message names the field and the problem. */
export class FormatError extends Error {}

export type JsonObject = Record<string, unknown>;

export function expectObject(v: unknown, path: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new FormatError(`${path} must be a JSON object`);
  return v as JsonObject;
}

export function expectString(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new FormatError(`${path} must be a string`);
  return v;
}

export function expectArray(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new FormatError(`${path} must be an array`);
  return v;
}

export function onlyKeys(o: JsonObject, allowed: string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new FormatError(`${path} has unexpected property "${k}"`);
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (RFC 4648 §4, padded), as Go's encoding/base64 StdEncoding accepts it. */
export function decodeBase64(v: unknown, path: string, { allowEmpty = false } = {}): Buffer {
  const s = expectString(v, path);
  if (!BASE64.test(s)) throw new FormatError(`${path} is not valid base64`);
  if (s.length === 0 && !allowEmpty) throw new FormatError(`${path} must not be empty`);
  return Buffer.from(s, 'base64');
}

export function expectHex(v: unknown, path: string, bytes: number): string {
  const s = expectString(v, path);
  if (s.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new FormatError(`${path} must be ${bytes * 2} hexadecimal characters`);
  }
  return s.toLowerCase();
}

export interface ProposedEntry {
  kind: string;
  apiVersion: string;
  spec: JsonObject;
}

/** The ProposedEntry envelope; the spec is checked by the entry type. */
export function parseProposedEntry(json: unknown): ProposedEntry {
  const o = expectObject(json, 'entry');
  const kind = expectString(o.kind, 'kind');
  const apiVersion = expectString(o.apiVersion, 'apiVersion');
  const spec = expectObject(o.spec, 'spec');
  onlyKeys(o, ['kind', 'apiVersion', 'spec'], 'entry');
  return { kind, apiVersion, spec };
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  if (typeof v === 'number' && !Number.isSafeInteger(v))
    throw new Error('only integers are canonicalized here');
  return v;
}

/**
 * RFC 8785 canonical JSON bytes (the form Rekor bodies and SET payloads take). For the values used here (strings,
 * safe integers, objects, arrays) JCS is JSON.stringify with keys sorted by UTF-16 code units, which is what
 * Array.prototype.sort does; test/log/api.test.ts cross-checks it with the canonicalize package.
 */
export function canonicalJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(sortKeys(value)), 'utf8');
}

export interface InclusionProofJson {
  logIndex: number;
  rootHash: string;
  treeSize: number;
  hashes: string[];
  checkpoint: string;
}

/** openapi.yaml LogEntry value (answers key it by entry ID); optional where a log may leave a field out. */
export interface RekorLogEntry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification?: { signedEntryTimestamp?: string; inclusionProof?: InclusionProofJson };
  attestation?: { data?: string };
}

/** A LogEntry as this log writes it: always with its SET. */
export interface LogEntryJson extends RekorLogEntry {
  verification: { signedEntryTimestamp: string; inclusionProof?: InclusionProofJson };
}

/** openapi.yaml LogInfo. */
export interface RekorLogInfo {
  rootHash: string;
  treeSize: number;
  signedTreeHead: string;
  treeID?: string;
  inactiveShards?: unknown[];
}

/** The latest checkpoint as a JSON string in UTF-8: a batch's answers all carry the same one. */
let lastCheckpoint = { text: '', json: Buffer.alloc(0) };

/**
 * The response body {entryId: entry} as UTF-8 JSON, byte for byte what JSON.stringify gives, written straight into
 * one buffer. Every string in an entry the log makes is hex or base64, except the checkpoint, whose signature
 * lines hold an em dash: through JSON.stringify that one character made the whole ~3 KB answer a two-byte string,
 * encoded again for the socket, ~20 KB of garbage per append on the main thread. `entry`'s strings must be as the
 * log makes them (hex, base64); anything else is not escaped.
 */
export function logEntryResponse(id: string, entry: LogEntryJson): Buffer {
  const p = entry.verification.inclusionProof;
  if (!p) return Buffer.from(JSON.stringify({ [id]: entry }));
  if (lastCheckpoint.text !== p.checkpoint) {
    lastCheckpoint = { text: p.checkpoint, json: Buffer.from(JSON.stringify(p.checkpoint)) };
  }
  const ascii =
    `{"${id}":{"body":"${entry.body}","integratedTime":${entry.integratedTime},"logID":"${entry.logID}",` +
    `"logIndex":${entry.logIndex},"verification":{"signedEntryTimestamp":"${entry.verification.signedEntryTimestamp}",` +
    `"inclusionProof":{"logIndex":${p.logIndex},"rootHash":"${p.rootHash}","treeSize":${p.treeSize},` +
    `"hashes":[${p.hashes.length > 0 ? `"${p.hashes.join('","')}"` : ''}],"checkpoint":`;
  const { json } = lastCheckpoint;
  const out = Buffer.allocUnsafe(ascii.length + json.length + 4);
  out.write(ascii, 0, 'latin1');
  json.copy(out, ascii.length);
  out.write('}}}}', ascii.length + json.length, 'latin1');
  return out;
}

/** The decoded entry body: kind and apiVersion decide the bundle's kindVersion. */
export function entryBody(entry: RekorLogEntry): { kind: string; apiVersion: string; spec: unknown } {
  let body: { kind?: unknown; apiVersion?: unknown; spec?: unknown };
  try {
    body = JSON.parse(Buffer.from(entry.body, 'base64').toString('utf8'));
  } catch {
    throw new Error(`log entry ${entry.logIndex}: body is not base64 JSON`);
  }
  if (typeof body?.kind !== 'string' || typeof body.apiVersion !== 'string') {
    throw new Error(`log entry ${entry.logIndex}: body lacks kind or apiVersion`);
  }
  return { kind: body.kind, apiVersion: body.apiVersion, spec: body.spec };
}

/** The entry as a bundle's TransparencyLogEntry (sigstore_rekor.proto) in its JSON mapping. */
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

/** Rekor tree IDs are int64s; entry IDs carry them as 16 hex digits. */
export function entryId(treeId: string, uuid: string): string {
  return BigInt(treeId).toString(16).padStart(16, '0') + uuid;
}

/** Accepts a 64-hex UUID or an 80-hex entry ID; returns the lowercase UUID and the tree ID part if any. */
export function parseEntryUuid(s: string): { uuid: string; treeIdHex?: string } | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(s)) return { uuid: s.toLowerCase() };
  if (/^[0-9a-fA-F]{80}$/.test(s))
    return { uuid: s.slice(16).toLowerCase(), treeIdHex: s.slice(0, 16).toLowerCase() };
  return undefined;
}
