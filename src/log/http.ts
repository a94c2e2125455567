// The log as a sigil service: the Rekor v1 REST API (sigstore/rekor openapi.yaml) and the C2SP tlog-tiles
// resources under TILES_PREFIX, on the shared fastify server. Errors are Rekor-shaped JSON ({code, message}) and
// every client mistake is a 4xx that says what was wrong. See docs/design/log-api.md.
import { createPublicKey, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { keyValidFrom, loadOrCreatePrivateKey, localSigner } from '../crypto/index.js';
import {
  expectArray,
  expectObject,
  FormatError,
  logEntryResponse,
  parseTilePath,
  type RekorLogInfo,
} from '../formats/index.js';
import { closeAfterResponse } from '../limits/index.js';
import type { Service, ServiceContext } from '../service/index.js';
import {
  type AppendForwarder,
  decodeForwarded,
  encodeForwarded,
  type ForwardedAnswer,
  type ForwardedResult,
} from './forwarding.js';
import { type MerkleLog, NotSequencerError } from './merkle-log.js';
import { KeyError } from './rekor/keys.js';
import { ConflictError, JsonText, NotFoundError, openRekorLog, type RekorLog } from './rekor/rekor-log.js';
import { searchTerms } from './rekor/search.js';
import { type OpenLogStorage, StorageUnavailableError } from './storage.js';

/** tlog-tiles resources live here; distinct from /v2 (registry), /api/v1|v2 (Rekor, Fulcio) and /ct (CT). */
export const TILES_PREFIX = '/tlog';
/** Largest proposed entry accepted (DSSE/in-toto envelopes carry their payload). */
export const ENTRY_BODY_LIMIT = 1024 * 1024;
/** Largest search or retrieve request. */
const QUERY_BODY_LIMIT = 64 * 1024;
/** What fastify sends with the JSON it serialises; kept for the answers written out directly. */
const JSON_TYPE = 'application/json; charset=utf-8';
/** Rekor's limit on items per retrieve list. */
const MAX_RETRIEVE = 10;
/** Longest a forwarded batch waits for the sequencer's answer. */
const FORWARD_TIMEOUT_MS = 30_000;
/** Largest forwarded batch (FORWARD_BATCH_MAX entries of up to ENTRY_BODY_LIMIT would be more: batches are cut by count). */
const FORWARD_BODY_LIMIT = 256 * 1024 * 1024;
/** Where frontends forward appends to the sequencer (not a Rekor path). */
export const SEQUENCER_PATH = '/internal/sequencer/log';
const SEQUENCER_SECRET_FILE = 'sequencer.secret';

export const LOG_DIR = 'log';
export const LOG_KEY_FILE = 'signing-key.pem';

/**
 * The log's public key in a data dir, valid from when it was made (recorded then, never a file time) less a minute
 * for slow client clocks: what trusted_root.json names. Undefined while the log has made no key there.
 */
export async function readLogKey(
  dataDir: string,
): Promise<{ publicKey: KeyObject; validFrom: Date } | undefined> {
  return readPublishedKey(join(dataDir, LOG_DIR, LOG_KEY_FILE));
}

/** A log key as the trust files name it: its public half, valid from its recorded start less a minute. */
export async function readPublishedKey(
  path: string,
): Promise<{ publicKey: KeyObject; validFrom: Date } | undefined> {
  try {
    const publicKey = createPublicKey(await readFile(path, 'utf8'));
    return { publicKey, validFrom: new Date((await keyValidFrom(path)).getTime() - 60_000) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function send(reply: FastifyReply, code: number, message: string): FastifyReply {
  // Unavailability is passing (a database restarting, a sequencer being elected): say when to retry.
  if (code === 503) reply.header('retry-after', '1');
  return reply.code(code).type('application/json').send({ code, message });
}

/**
 * The secret frontends of one deployment present when they forward appends to the sequencer (forwarding.ts): 32
 * random bytes in the log's directory of the shared data dir, made by whichever frontend comes first (an
 * exclusive create, so two starting together agree), readable by the owner only.
 */
async function sequencerSecret(dir: string): Promise<Buffer> {
  const path = join(dir, SEQUENCER_SECRET_FILE);
  try {
    await writeFile(path, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const text = (await readFile(path, 'utf8')).trim();
  if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`${path} is not a sequencer secret (64 hex digits)`);
  return Buffer.from(text, 'hex');
}

/** The follower side of forwarding: batches go to `<sequencer URL><path>` with the secret. */
function httpForwarder(path: string, secret: Buffer): AppendForwarder {
  const authorization = `Bearer ${secret.toString('hex')}`;
  return async (url, appends) => {
    const answer = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', authorization },
      body: encodeForwarded(appends),
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
    if (answer.status !== 200) throw new Error(`${answer.status} ${(await answer.text()).slice(0, 200)}`);
    return (await answer.json()) as ForwardedAnswer;
  };
}

/**
 * What a log service needs to be one of several frontends (docs/design/scale-out.md): the sequencer's route, and,
 * once the server listens, its storage with the options that let the engine sequence or forward. A store only this
 * process opens gets no secret and no forwarder (the route then answers 404).
 */
export function sharedLogParts(dir: string, path: string, merkle: () => MerkleLog | undefined) {
  let secret: Buffer | undefined;
  return {
    register: (app: FastifyInstance) => registerSequencerRoute(app, path, merkle, () => secret),
    async open(openStorage: OpenLogStorage, url: string) {
      const storage = openStorage(dir);
      if (storage.election) secret = await sequencerSecret(dir);
      // Other frontends forward appends to this process's own address (not the public URL: a proxy).
      return { storage, sequencerUrl: url, forward: secret && httpForwarder(path, secret) };
    },
  };
}

/**
 * The sequencer side: POST `path` takes a batch from another frontend of the deployment, appends each entry (they
 * share the engine's next batches with this frontend's own), and answers positions and the committed head.
 */
async function registerSequencerRoute(
  app: FastifyInstance,
  path: string,
  merkle: () => MerkleLog | undefined,
  secret: () => Buffer | undefined,
): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler(logErrorHandler(() => undefined, 'sequencer'));
    scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    );
    scope.post(path, { bodyLimit: FORWARD_BODY_LIMIT }, async (req) => {
      const key = secret();
      if (!key) throw new HttpError(404, 'this log is not shared with other frontends');
      const given = Buffer.from(req.headers.authorization ?? '');
      const expected = Buffer.from(`Bearer ${key.toString('hex')}`);
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        throw new HttpError(401, "forwarded appends need the deployment's sequencer secret");
      if (!Buffer.isBuffer(req.body)) throw new HttpError(415, 'send the batch as application/octet-stream');
      const m = merkle();
      if (!m?.isSequencer()) throw new HttpError(503, 'this frontend does not sequence the log');
      const appends = decodeForwarded(req.body);
      const settled = await Promise.allSettled(
        appends.map((a) =>
          m.append({ leaf: a.leaf, identity: a.identity, leafHash: a.leafHash, terms: a.terms }),
        ),
      );
      const results: ForwardedResult[] = settled.map((r) =>
        r.status === 'fulfilled'
          ? {
              index: r.value.index,
              timestamp: r.value.timestamp,
              leafHash: r.value.leafHash.toString('base64'),
              duplicate: r.value.duplicate,
              proof: [],
            }
          : {
              error: (r.reason as Error).message,
              // Passing trouble (the database, or this frontend's lease ending mid-batch) is for the client to retry.
              status:
                r.reason instanceof StorageUnavailableError || r.reason instanceof NotSequencerError
                  ? 503
                  : 500,
            },
      );
      const head = m.head();
      const proofs = await Promise.all(
        settled.map((r) => (r.status === 'fulfilled' ? m.inclusionProof(r.value.index, head.size) : [])),
      );
      results.forEach((r, i) => {
        if ('index' in r) r.proof = proofs[i].map((h) => h.toString('base64'));
      });
      return {
        results,
        head: {
          size: head.size,
          root: head.root.toString('base64'),
          timestamp: head.timestamp,
          checkpoint: head.checkpoint,
        },
      } satisfies ForwardedAnswer;
    });
  });
}

/**
 * The log APIs' error handler (Rekor v1 and v2 answer errors alike): `special` answers the errors of one API (a
 * conflict, a missing entry) and returns undefined for the rest; every other client mistake is a 4xx with its
 * message, and only a bug is a 500.
 */
export function logErrorHandler(
  special: (err: Error, reply: FastifyReply) => FastifyReply | undefined,
  what: string,
) {
  return (err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    const fastifyError = err as FastifyError;
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = req.routeOptions.bodyLimit ?? ENTRY_BODY_LIMIT;
      // The rest of the body is not read: close in stages so that a client still sending reads the 413.
      if (!req.raw.complete) {
        reply.header('connection', 'close');
        closeAfterResponse(req.raw);
      }
      return send(reply, 413, `request body is larger than the limit of ${limit} bytes`);
    }
    // fastify's own client errors (bad JSON, content type, ...) keep their status and message.
    const status = fastifyError.statusCode;
    if (fastifyError.code?.startsWith('FST_') && status !== undefined && status >= 400 && status < 500) {
      return send(reply, status, err.message);
    }
    if (err instanceof SyntaxError && status === 400) return send(reply, 400, `invalid JSON: ${err.message}`);
    if (err instanceof FormatError || err instanceof KeyError || err instanceof RangeError) {
      return send(reply, 400, err.message);
    }
    const answered = special(err, reply);
    if (answered) return answered;
    if (err instanceof StorageUnavailableError || err instanceof NotSequencerError)
      return send(reply, 503, err.message);
    if (err instanceof HttpError) return send(reply, err.statusCode, err.message);
    if (status !== undefined && status >= 400 && status < 500) return send(reply, status, err.message);
    req.log.error({ err }, `${what} request failed`);
    return send(reply, 500, 'internal error');
  };
}

const errorHandler = logErrorHandler((err, reply) => {
  if (err instanceof ConflictError) {
    reply.header('location', `/api/v1/log/entries/${err.entryId}`);
    return send(reply, 409, err.message);
  }
  if (err instanceof NotFoundError) return send(reply, 404, err.message);
  return undefined;
}, 'log');

function uintParam(value: unknown, name: string, { min = 0, required = true } = {}): number | undefined {
  if (value === undefined || value === '') {
    if (required) throw new HttpError(400, `query parameter ${name} is required`);
    return undefined;
  }
  if (typeof value !== 'string' || !/^[0-9]{1,16}$/.test(value)) {
    throw new HttpError(400, `query parameter ${name} must be a non-negative integer`);
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new HttpError(400, `query parameter ${name} must be at least ${min}`);
  return n;
}

/**
 * The query parameters a route defines (Rekor's openapi.yaml) and nothing else: a misspelt parameter would
 * otherwise be ignored silently, and the caller would read an answer to a question it did not ask.
 */
function onlyParams(query: unknown, allowed: string[]): Record<string, unknown> {
  const q = (query ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(q)) {
    if (!allowed.includes(k))
      throw new HttpError(
        400,
        `unknown query parameter ${k}${allowed.length ? ` (this endpoint takes ${allowed.join(', ')})` : ''}`,
      );
    if (Array.isArray(v)) throw new HttpError(400, `query parameter ${k} is given more than once`);
  }
  return q;
}

/** treeID (openapi.yaml: a decimal int64 string): absent, or this log's own; another log's is a 404. */
function checkTreeId(value: unknown, log: RekorLog): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !/^[0-9]{1,19}$/.test(value))
    throw new HttpError(400, 'query parameter treeID must be a decimal tree ID');
  if (value !== log.treeId) throw new NotFoundError(`unknown treeID ${value}`);
}

/**
 * C2SP tlog-tiles reads under `prefix`: /checkpoint (never cached) and /tile/… hash tiles and entry bundles. A
 * full tile never changes, and a partial one's URL names its width, so every tile URL keeps its bytes for good.
 */
export function tileRoutes(scope: FastifyInstance, prefix: string, merkle: () => MerkleLog): void {
  scope.get(`${prefix}/checkpoint`, async (_req, reply) =>
    reply
      .type('text/plain; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send((await merkle().freshHead()).checkpoint),
  );
  scope.get(`${prefix}/tile/*`, async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    const ref = parseTilePath(rest);
    if (!ref) throw new HttpError(404, `not a tile path: ${rest}`);
    const m = merkle();
    const data =
      ref.level === 'entries'
        ? await m.entryBundle(ref.index, ref.width)
        : await m.tile(ref.level, ref.index, ref.width);
    if (!data) throw new HttpError(404, `tile ${rest} does not exist at tree size ${m.head().size}`);
    return reply
      .type('application/octet-stream')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(data);
  });
}

/** Registers the Rekor API and the tiles on `app`; `getLog` returns the log once it is open. */
export async function registerLogRoutes(
  app: FastifyInstance,
  getLog: () => RekorLog | undefined,
): Promise<void> {
  const log = (): RekorLog => {
    const l = getLog();
    if (!l) throw new HttpError(503, 'the log is starting');
    return l;
  };
  await app.register(async (scope) => {
    scope.setErrorHandler(errorHandler);

    // Entry creation gets the JSON text, not parsed JSON: the validation worker parses it (off the main thread,
    // and a string crosses to the worker far cheaper than an object graph).
    await scope.register(async (create) => {
      create.removeContentTypeParser('application/json');
      create.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
        done(null, new JsonText(body as string)),
      );
      create.post('/api/v1/log/entries', { bodyLimit: ENTRY_BODY_LIMIT }, async (req, reply) => {
        const created = await log().add(req.body);
        // Rekor's CreateLogEntryHandler sends the answer's map key (the full entry ID) as the ETag, and Go clients
        // (sigstore-go, cosign v3) read the created entry as `resp.Payload[resp.ETag]`.
        return reply
          .code(201)
          .header('etag', created.entryId)
          .header('location', `/api/v1/log/entries/${created.entryId}`)
          .type(JSON_TYPE)
          .send(logEntryResponse(created.entryId, created.entry));
      });
    });

    scope.get('/api/v1/log/entries', async (req, reply) => {
      const index = uintParam(onlyParams(req.query, ['logIndex']).logIndex, 'logIndex') as number;
      const e = await log().byIndex(index);
      return reply.type(JSON_TYPE).send(logEntryResponse(e.entryId, e.entry));
    });

    scope.get('/api/v1/log/entries/:uuid', async (req, reply) => {
      onlyParams(req.query, []);
      const e = await log().byUuid((req.params as { uuid: string }).uuid);
      return reply.type(JSON_TYPE).send(logEntryResponse(e.entryId, e.entry));
    });

    scope.post('/api/v1/log/entries/retrieve', { bodyLimit: ENTRY_BODY_LIMIT }, async (req) => {
      const q = expectObject(req.body, 'query');
      for (const k of Object.keys(q))
        if (!['entryUUIDs', 'logIndexes', 'entries'].includes(k))
          throw new FormatError(
            `query has unexpected property "${k}" (it takes entryUUIDs, logIndexes, entries)`,
          );
      const out: Record<string, unknown>[] = [];
      const list = (name: string) => {
        // Go clients send the lists they leave empty as null: rekor's pkg/generated/models/search_log_query.go
        // MarshalJSON has no omitempty, so `rekor-cli verify --log-index 1` posts
        // {"entryUUIDs":null,"logIndexes":[1],"entries":null}. Rekor decodes null as a nil slice, i.e. absent
        // (pkg/api/entries.go SearchLogQueryHandler only looks at len()); so does this.
        if (q[name] === undefined || q[name] === null) return [];
        const items = expectArray(q[name], name);
        if (items.length > MAX_RETRIEVE)
          throw new FormatError(`${name} may hold at most ${MAX_RETRIEVE} items`);
        return items;
      };
      const [uuids, indexes, proposed] = [list('entryUUIDs'), list('logIndexes'), list('entries')];
      if (uuids.length + indexes.length + proposed.length === 0)
        throw new FormatError('query needs at least one entry UUID, log index or entry');
      for (const [i, u] of uuids.entries()) {
        if (typeof u !== 'string') throw new FormatError(`entryUUIDs[${i}] must be a string`);
        try {
          const e = await log().byUuid(u);
          out.push({ [e.entryId]: e.entry });
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
      for (const [i, n] of indexes.entries()) {
        if (!Number.isSafeInteger(n) || (n as number) < 0) {
          throw new FormatError(`logIndexes[${i}] must be a non-negative integer`);
        }
        try {
          const e = await log().byIndex(n as number);
          out.push({ [e.entryId]: e.entry });
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
      for (const p of proposed) {
        const e = await log().byProposed(p);
        if (e) out.push({ [e.entryId]: e.entry });
      }
      return out;
    });

    scope.get('/api/v1/log', async (req) => {
      const { stable } = onlyParams(req.query, ['stable']);
      // `stable` asks for a checkpoint that is not about to change; every checkpoint this log serves is one.
      if (stable !== undefined && stable !== 'true' && stable !== 'false')
        throw new HttpError(400, 'query parameter stable must be true or false');
      const l = log();
      const head = await l.merkle.freshHead();
      return {
        rootHash: head.root.toString('hex'),
        treeSize: head.size,
        signedTreeHead: head.checkpoint,
        treeID: l.treeId,
        inactiveShards: [],
      } satisfies RekorLogInfo;
    });

    scope.get('/api/v1/log/publicKey', async (req, reply) => {
      checkTreeId(onlyParams(req.query, ['treeID']).treeID, log());
      return reply.type('application/x-pem-file').send(log().publicKeyPem());
    });

    scope.get('/api/v1/log/proof', async (req) => {
      const query = onlyParams(req.query, ['firstSize', 'lastSize', 'treeID']);
      const l = log();
      checkTreeId(query.treeID, l);
      const first = uintParam(query.firstSize, 'firstSize', { min: 1, required: false }) ?? 1;
      const last = uintParam(query.lastSize, 'lastSize', { min: 1 }) as number;
      const size = (await l.merkle.freshHead()).size;
      if (last > size) throw new HttpError(400, `lastSize ${last} is beyond the current tree size ${size}`);
      if (first > last) throw new HttpError(400, `firstSize ${first} is larger than lastSize ${last}`);
      const hashes = await l.merkle.consistencyProof(first, last);
      return {
        rootHash: (await l.merkle.rootAt(last)).toString('hex'),
        hashes: hashes.map((h) => h.toString('hex')),
      };
    });

    scope.post('/api/v1/index/retrieve', { bodyLimit: QUERY_BODY_LIMIT }, async (req) => {
      const { terms, operator } = searchTerms(req.body);
      const l = log();
      const sets = await Promise.all(terms.map((t) => l.search(t)));
      if (operator === 'and') return sets.reduce((acc, s) => acc.filter((id) => s.includes(id)));
      return [...new Set(sets.flat())];
    });

    tileRoutes(scope, TILES_PREFIX, () => log().merkle);
  });
}

/**
 * `sigil serve log`: key and storage under <data dir>/log, on the backend `openStorage` opens (server/ chooses);
 * the checkpoint name is the public URL's host.
 */
export async function createLogService(ctx: ServiceContext, openStorage: OpenLogStorage): Promise<Service> {
  const dir = join(ctx.dataDir, LOG_DIR);
  await mkdir(dir, { recursive: true });
  const key = await loadOrCreatePrivateKey(join(dir, LOG_KEY_FILE), 'ecdsa-p256');
  const signer = localSigner(key);
  let rekor: RekorLog | undefined;
  const shared = sharedLogParts(dir, SEQUENCER_PATH, () => rekor?.merkle);
  return {
    name: 'log',
    async register(app) {
      await registerLogRoutes(app, () => rekor);
      await shared.register(app);
    },
    async started(url) {
      rekor = await openRekorLog({
        ...(await shared.open(openStorage, url)),
        signer,
        setSigningKey: key,
        hostname: new URL(ctx.publicUrl()).hostname,
      });
    },
    async close() {
      await rekor?.close();
    },
  };
}
