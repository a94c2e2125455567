// The repository's wire API: the published files as static resources under /tuf/ (the mirror URL clients are
// given is <sigil url>/tuf; go-tuf and tuf-js fetch metadata from it and targets from <mirror>/targets/). Only
// names the repository publishes are answered; versioned files never change, so they may be cached for good,
// while timestamp.json and root.json must be revalidated.
import type { FastifyInstance } from 'fastify';
import type { TufRepository } from './repository.js';

export const TUF_PATH_PREFIX = '/tuf';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** Whether a published path may change: only the timestamp and the newest-root copy do. */
const mutable = (rel: string) => rel === 'timestamp.json' || rel === 'root.json';

export async function registerTufRoutes(app: FastifyInstance, repo: TufRepository): Promise<void> {
  app.get(`${TUF_PATH_PREFIX}/*`, async (req, reply) => {
    const rel = (req.params as { '*': string })['*'];
    const bytes = await repo.read(rel);
    if (!bytes) return reply.code(404).type('application/json').send({ code: 404, message: 'not found' });
    return reply
      .header('cache-control', mutable(rel) ? REVALIDATE : IMMUTABLE)
      .type(rel.endsWith('.json') ? 'application/json' : 'application/octet-stream')
      .send(bytes);
  });
}
