// RFC 6962 §4 over HTTP, mounted under a prefix (/ct, so paths are /ct/v1/...):
// add-pre-chain, get-sth, get-sth-consistency, get-proof-by-hash, get-entries, get-roots. add-chain is refused:
// this log takes only its own CA's precertificates.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sctToJson } from '../formats/index.js';
import type { Service } from '../service/index.js';
import { CtError, type CtLog } from './log.js';

/** Where the CT log's API sits on a server shared with other services; the trust files name it. */
export const CT_PATH_PREFIX = '/ct';
/** A chain of a few certificates; bigger bodies are not a precertificate submission. */
const ADD_CHAIN_BODY_LIMIT = 256 * 1024;
/** §4.6 lets a log cap get-entries; clients page. */
export const MAX_ENTRIES_PER_GET = 256;

function fail(reply: FastifyReply, status: number, message: string) {
  return reply.code(status).send({ error_message: message, success: false });
}

function parseIndex(v: unknown, name: string): number {
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v))
    throw new CtError(`${name} must be a non-negative integer`);
  return Number(v);
}

export async function registerCtRoutes(app: FastifyInstance, log: CtLog): Promise<void> {
  app.post('/v1/add-pre-chain', { bodyLimit: ADD_CHAIN_BODY_LIMIT }, async (req, reply) => {
    const chain = (req.body as { chain?: unknown } | null)?.chain;
    if (!Array.isArray(chain) || chain.length === 0 || !chain.every((c) => typeof c === 'string'))
      return fail(reply, 400, 'body must be {"chain": [base64 DER certificates]}');
    try {
      return sctToJson(await log.addPreChain(chain.map((c: string) => Buffer.from(c, 'base64'))));
    } catch (err) {
      if (err instanceof CtError) return fail(reply, err.status, err.message);
      throw err;
    }
  });

  app.post('/v1/add-chain', async (_req, reply) =>
    fail(reply, 400, 'this log accepts only precertificates from its CA (use add-pre-chain)'),
  );

  app.get('/v1/get-roots', async () => ({ certificates: log.roots.map((r) => r.toString('base64')) }));

  app.get('/v1/get-sth', async (_req, reply) => {
    if (!log.tree) return fail(reply, 503, 'this log has no Merkle tree');
    return log.tree.sth();
  });

  app.get('/v1/get-sth-consistency', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    try {
      if (!log.tree) throw new CtError('this log has no Merkle tree', 503);
      const first = parseIndex(q.first, 'first');
      const second = parseIndex(q.second, 'second');
      if (first > second) throw new CtError('first must not exceed second');
      if (second > log.tree.size()) throw new CtError(`second exceeds the tree size ${log.tree.size()}`);
      const proof = first === 0 || first === second ? [] : await log.tree.consistency(first, second);
      return { consistency: proof.map((h) => h.toString('base64')) };
    } catch (err) {
      if (err instanceof CtError) return fail(reply, err.status, err.message);
      throw err;
    }
  });

  app.get('/v1/get-proof-by-hash', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    try {
      if (!log.tree) throw new CtError('this log has no Merkle tree', 503);
      const size = parseIndex(q.tree_size, 'tree_size');
      if (size > log.tree.size()) throw new CtError(`tree_size exceeds the tree size ${log.tree.size()}`);
      // An unescaped '+' in the query arrives as a space.
      const hash =
        typeof q.hash === 'string' ? Buffer.from(q.hash.replace(/ /g, '+'), 'base64') : Buffer.alloc(0);
      if (hash.length !== 32) throw new CtError('hash must be a base64 SHA-256 leaf hash');
      const found = await log.tree.proofByHash(hash, size);
      if (!found) throw new CtError(`no entry with that leaf hash in the tree of size ${size}`, 404);
      return { leaf_index: found.index, audit_path: found.path.map((h) => h.toString('base64')) };
    } catch (err) {
      if (err instanceof CtError) return fail(reply, err.status, err.message);
      throw err;
    }
  });

  app.get('/v1/get-entries', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    try {
      const start = parseIndex(q.start, 'start');
      const end = parseIndex(q.end, 'end');
      if (end < start) throw new CtError('end must not be less than start');
      if (start >= log.size()) throw new CtError(`start is past the end of the log (size ${log.size()})`);
      const last = Math.min(end, log.size() - 1, start + MAX_ENTRIES_PER_GET - 1);
      const entries = (await log.entries(start, last + 1)).map((e) => ({
        leaf_input: e.leafInput.toString('base64'),
        extra_data: e.extraData.toString('base64'),
      }));
      return { entries };
    } catch (err) {
      if (err instanceof CtError) return fail(reply, err.status, err.message);
      throw err;
    }
  });
}

/** The CT log as a Service under CT_PATH_PREFIX; closing it closes the log (its queue and tree). */
export function ctService(log: CtLog): Service {
  return {
    name: 'ct',
    async register(app) {
      await app.register(async (scope) => registerCtRoutes(scope, log), { prefix: CT_PATH_PREFIX });
    },
    close: () => log.close(),
  };
}
