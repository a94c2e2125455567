// Manifests (end-3 GET/HEAD, end-7 PUT, end-9 DELETE), by tag or digest; stored and served byte for byte.
import { RegistryError } from '../errors.js';
import { MAX_MANIFEST_BYTES } from '../manifests.js';
import { assertName, parseReference, type Reference } from '../names.js';
import {
  API_VERSION_HEADER,
  created,
  type Endpoint,
  many,
  query,
  readLimited,
  unsupported,
} from './common.js';

export const manifests: Endpoint = {
  path: /^(.+)\/manifests\/([^/]+)$/,
  parts: ['NAME_INVALID', 'MANIFEST_INVALID'],
  async handle({ registry, authorize }, req, reply, [rawName, rawRef]) {
    const name = assertName(rawName);
    const method = req.method;
    let ref: Reference;
    try {
      ref = parseReference(rawRef);
    } catch (err) {
      // A tag outside the grammar names nothing, so pulling or deleting it is "not found" (spec "Pulling
      // manifests": 404, the only failure end-3 lists); only a push is told its tag is invalid.
      if (method !== 'PUT' && err instanceof RegistryError && err.code === 'MANIFEST_INVALID') {
        throw new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown to registry', {
          reference: rawRef.slice(0, 200),
        });
      }
      throw err;
    }
    if (method === 'GET' || method === 'HEAD') {
      await authorize(req, 'repository', name, ['pull']);
      const m = await registry.getManifest(name, ref);
      const etag = `"${m.digest}"`;
      // Hot path: write straight to the socket, skipping fastify's serialization.
      reply.hijack();
      if (req.headers['if-none-match'] === etag) {
        reply.raw.writeHead(304, { etag, 'docker-content-digest': m.digest, ...API_VERSION_HEADER }).end();
      } else {
        const headers = {
          ...API_VERSION_HEADER,
          'content-type': m.mediaType,
          'content-length': String(m.content.length),
          'docker-content-digest': m.digest,
          etag,
        };
        reply.raw.writeHead(200, headers).end(method === 'HEAD' ? undefined : m.content);
      }
      return;
    }
    if (method === 'PUT') {
      await authorize(req, 'repository', name, ['push'], ['pull', 'push']);
      const content = await readLimited(req, MAX_MANIFEST_BYTES, 'manifest');
      const extraTags = many(query(req).tag);
      const result = await registry.putManifest(name, ref, content, req.headers['content-type'], extraTags);
      created(reply, name, 'manifests', result.digest);
      if (result.subject) reply.header('oci-subject', result.subject);
      if (extraTags.length > 0) reply.header('oci-tag', result.tags.join(', '));
      return reply.send();
    }
    if (method === 'DELETE') {
      await authorize(req, 'repository', name, ['delete']);
      await registry.deleteManifest(name, ref);
      return reply.code(202).header('content-length', '0').send();
    }
    throw unsupported(method);
  },
};
