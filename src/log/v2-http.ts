// The Rekor v2 log as a sigil service, with rekor-tiles' wire API (api/proto/rekor/v2/rekor_service.proto):
//   POST /api/v2/log/entries          CreateEntryRequest → 201 TransparencyLogEntry, once a checkpoint covers it
//   GET  /api/v2/checkpoint           the signed checkpoint (C2SP tlog-checkpoint)
//   GET  /api/v2/tile/{L}/{N}[.p/W]   hash tiles, and /api/v2/tile/entries/{N}[.p/W] entry bundles (C2SP tlog-tiles)
// Errors are {code, message} JSON with the HTTP status as code; a duplicate is 409 with the existing index in
// x-log-index, as rekor-tiles answers it. Its key and database live in DATA/log-v2; DATA/log-v2/log.json says
// what the trust files must name (origin, key, log ID), written once the log is open.
import type { KeyObject } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadOrCreatePrivateKey, writeFileAtomic } from '../crypto/index.js';
import type { Service, ServiceContext } from '../service/index.js';
import {
  ENTRY_BODY_LIMIT,
  HttpError,
  logErrorHandler,
  readPublishedKey,
  send,
  sharedLogParts,
  tileRoutes,
} from './http.js';
import { DuplicateEntryError, openRekorV2Log, type RekorV2Log } from './rekor/v2-log.js';
import type { OpenLogStorage } from './storage.js';

export const LOG_V2_DIR = 'log-v2';
const KEY_FILE = 'checkpoint-key.pem';
const INFO_FILE = 'log.json';
export const REKOR_V2_PREFIX = '/api/v2';
/** Where frontends forward appends to the v2 log's sequencer (http.ts registerSequencerRoute). */
const SEQUENCER_V2_PATH = '/internal/sequencer/log-v2';

/** What the trust files name for the v2 log: its checkpoint origin and key, and the log ID clients look it up by. */
export interface RekorV2LogInfo {
  origin: string;
  publicKey: KeyObject;
  logId: Buffer;
  validFrom: Date;
}

/** The v2 log's published identity in a data dir, or undefined before it has first opened there. */
export async function readRekorV2LogInfo(dataDir: string): Promise<RekorV2LogInfo | undefined> {
  const dir = join(dataDir, LOG_V2_DIR);
  const key = await readPublishedKey(join(dir, KEY_FILE));
  let info: { origin: string; logId: string };
  try {
    info = JSON.parse(await readFile(join(dir, INFO_FILE), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return key && { ...key, origin: info.origin, logId: Buffer.from(info.logId, 'base64') };
}

const errorHandler = logErrorHandler((err, reply) => {
  if (!(err instanceof DuplicateEntryError)) return undefined;
  reply.header('x-log-index', String(err.index));
  return send(reply, 409, err.message);
}, 'rekor v2');

export async function registerRekorV2Routes(app: FastifyInstance, getLog: () => RekorV2Log | undefined) {
  const log = (): RekorV2Log => {
    const l = getLog();
    if (!l) throw new HttpError(503, 'the log is starting');
    return l;
  };
  await app.register(async (scope) => {
    scope.setErrorHandler(errorHandler);
    // The request's text goes to the validation pool as it is: parsed there, off the main thread.
    // Only JSON: without this, fastify's text/plain parser would hand the route a string too (415 instead).
    scope.removeContentTypeParser(['application/json', 'text/plain']);
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
    scope.post(`${REKOR_V2_PREFIX}/log/entries`, { bodyLimit: ENTRY_BODY_LIMIT }, async (req, reply) => {
      if (typeof req.body !== 'string')
        throw new HttpError(415, 'send the CreateEntryRequest as application/json');
      const { json } = await log().add(req.body);
      return reply.code(201).type('application/json').send(json);
    });
    tileRoutes(scope, REKOR_V2_PREFIX, () => log().merkle);
  });
}

/** `sigil serve log-v2` and the v2 log in `sigil up`: an Ed25519 checkpoint key and a database in DATA/log-v2. */
export async function createRekorV2Service(
  ctx: ServiceContext,
  openStorage: OpenLogStorage,
): Promise<Service> {
  const dir = join(ctx.dataDir, LOG_V2_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = await loadOrCreatePrivateKey(join(dir, KEY_FILE), 'ed25519');
  let log: RekorV2Log | undefined;
  const shared = sharedLogParts(dir, SEQUENCER_V2_PATH, () => log?.merkle);
  return {
    name: 'log-v2',
    async register(app) {
      await registerRekorV2Routes(app, () => log);
      await shared.register(app);
    },
    async started(url) {
      log = await openRekorV2Log({
        ...(await shared.open(openStorage, url)),
        checkpointKey: key,
        hostname: new URL(ctx.publicUrl()).hostname,
      });
      const info = { origin: log.origin, logId: log.logId.toString('base64') };
      await writeFileAtomic(join(dir, INFO_FILE), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    },
    async close() {
      await log?.close();
    },
  };
}
