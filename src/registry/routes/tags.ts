// Listing (end-8 tags, the catalog): pages of at most n names after `last`, with a Link header to the next.
import type { Page } from '../engine.js';
import { RegistryError } from '../errors.js';
import { assertName, isValidTag } from '../names.js';
import { type Endpoint, one, query, unsupported } from './common.js';

function pageLink(path: string, n: number | undefined, page: Page<string>): string | undefined {
  if (page.next === undefined) return undefined;
  const params = new URLSearchParams();
  if (n !== undefined) params.set('n', String(n));
  params.set('last', page.next);
  return `<${path}?${params.toString()}>; rel="next"`;
}

function parseN(value: unknown): number | undefined {
  const s = one(value);
  if (s === undefined) return undefined;
  if (!/^\d{1,9}$/.test(s)) {
    throw new RegistryError('UNSUPPORTED', 'n must be a non-negative integer', { n: s }, 400);
  }
  return Number(s);
}

export const catalog: Endpoint = {
  path: /^_catalog$/,
  parts: [],
  async handle({ registry, authorize }, req, reply) {
    if (req.method !== 'GET') throw unsupported(req.method);
    await authorize(req, 'registry', 'catalog', ['*']);
    const q = query(req);
    const n = parseN(q.n);
    const page = await registry.catalog(n, one(q.last) ?? '');
    const link = pageLink('/v2/_catalog', n, page);
    if (link) reply.header('link', link);
    return reply.send({ repositories: page.items });
  },
};

export const tags: Endpoint = {
  path: /^(.+)\/tags\/list$/,
  parts: ['NAME_INVALID'],
  async handle({ registry, authorize }, req, reply, [rawName]) {
    const name = assertName(rawName);
    if (req.method !== 'GET') throw unsupported(req.method);
    await authorize(req, 'repository', name, ['pull']);
    const q = query(req);
    const n = parseN(q.n);
    const last = one(q.last) ?? '';
    if (last !== '' && !isValidTag(last)) {
      throw new RegistryError('UNSUPPORTED', 'last must be a tag', { last }, 400);
    }
    const page = await registry.listTags(name, n, last);
    const link = pageLink(`/v2/${name}/tags/list`, n, page);
    if (link) reply.header('link', link);
    return reply.send({ name, tags: page.items });
  },
};
