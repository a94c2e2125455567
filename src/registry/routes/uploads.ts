// Blob uploads (end-4a/4b POST, end-5 PATCH, end-6 PUT, end-11 mount, end-13 GET, DELETE): starting a session
// (or a whole blob in one POST, or a mount from another repository) and the session's own URL.
import { formatScope } from '../auth.js';
import { RegistryError } from '../errors.js';
import { assertName, type DigestAlgorithm, isDigestAlgorithm, parseDigest } from '../names.js';
import type { ChunkRange } from '../uploads.js';
import {
  bodyStream,
  ChallengeError,
  contentLength,
  created,
  type Endpoint,
  hasBody,
  one,
  query,
  unsupported,
} from './common.js';

function uploadHeaders(name: string, id: string, size: number): Record<string, string> {
  return {
    location: `/v2/${name}/blobs/uploads/${id}`,
    // distribution's convention: "0-0" for an empty session, else the last byte received.
    range: `0-${Math.max(0, size - 1)}`,
    'docker-upload-uuid': id,
  };
}

/** `Content-Range: <start>-<end>` of a chunk (spec: `^[0-9]+-[0-9]+$`; docker's `bytes=` prefix tolerated). */
export function parseContentRange(value: string | undefined): ChunkRange | undefined {
  if (value === undefined) return undefined;
  const m = value.trim().match(/^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d{1,15}|\*))?$/);
  if (!m) {
    // 416 as for a chunk out of order (spec "Pushing a blob in chunks"): the range cannot be satisfied, and the
    // client's way on is the same, `GET <location>` for what the session holds.
    throw new RegistryError(
      'BLOB_UPLOAD_INVALID',
      'Content-Range must be <start>-<end>',
      { contentRange: value.slice(0, 200) },
      416,
    );
  }
  const range = { start: Number(m[1]), end: Number(m[2]) };
  if (range.end < range.start) {
    throw new RegistryError(
      'BLOB_UPLOAD_INVALID',
      'Content-Range ends before it starts',
      { contentRange: value },
      416,
    );
  }
  return range;
}

/** `POST <name>/blobs/uploads/`: a mount, a whole blob in one request, or a new session. */
export const uploadStart: Endpoint = {
  path: /^(.+)\/blobs\/uploads\/?$/,
  parts: ['NAME_INVALID'],
  async handle({ registry, authority, authorize, mayPull, challenge }, req, reply, [rawName]) {
    const name = assertName(rawName);
    if (req.method !== 'POST') throw unsupported(req.method);
    const q = query(req);
    const mount = one(q.mount);
    const from = one(q.from);
    const source = mount !== undefined && from !== undefined ? assertName(from) : undefined;
    // A mount also reads the source: the challenge asks for pull there too (as distribution's does), so that a
    // client which asks only for what a challenge names (and retries once) can mount.
    const sourceScope =
      source === undefined ? [] : [formatScope({ type: 'repository', name: source, actions: ['pull'] })];
    const principal = await authorize(req, 'repository', name, ['push'], ['pull', 'push'], sourceScope);
    if (mount !== undefined && source !== undefined) {
      const digest = parseDigest(mount);
      const canPull = await mayPull(req, source);
      if (!canPull && authority && principal && (await authority.holds(principal.subject, source, 'pull'))) {
        // The user may pull the source but this token does not say so (clients that ask only for what a
        // challenge names): ask for both, as distribution does for a mount, rather than have them upload what
        // they could mount. A user without pull on the source never sees this challenge.
        const scopes = [formatScope({ type: 'repository', name, actions: ['pull', 'push'] }), ...sourceScope];
        throw new ChallengeError(
          'mounting needs pull access to the source repository',
          challenge(scopes.join(' '), 'insufficient_scope'),
          [{ type: 'repository', name: source, actions: ['pull'] }],
        );
      }
      // Mounting reveals `from`'s content, so the caller must be able to pull it; if not, or if `from` lacks the
      // blob, the spec's fallback is an ordinary upload session (202).
      if (canPull && (await registry.uploads.mount(name, source, digest))) {
        return created(reply, name, 'blobs', digest.digest).send();
      }
    }
    const digestParam = one(q.digest);
    const algorithmParam = one(q['digest-algorithm']);
    let algorithm: DigestAlgorithm = 'sha256';
    if (algorithmParam !== undefined) {
      if (!isDigestAlgorithm(algorithmParam)) {
        throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm "${algorithmParam}"`, {
          algorithm: algorithmParam,
        });
      }
      algorithm = algorithmParam;
    }
    const digest = digestParam === undefined ? undefined : parseDigest(digestParam);
    if (digest) algorithm = digest.algorithm;
    const owner = principal?.subject;
    const upload = await registry.uploads.create(name, algorithm, owner);
    if (digest) {
      // Single-POST monolithic upload (end-4b).
      const ref = { repo: name, id: upload.id, owner };
      const done = await registry.uploads.complete(
        ref,
        digest,
        bodyStream(req),
        undefined,
        contentLength(req),
      );
      return created(reply, name, 'blobs', done.digest).send();
    }
    return reply
      .code(202)
      .headers({ ...uploadHeaders(name, upload.id, 0), 'content-length': '0' })
      .send();
  },
};

/** `<name>/blobs/uploads/<id>`: a session's status, its next chunk, its closing PUT, its cancellation. */
export const uploadSession: Endpoint = {
  path: /^(.+)\/blobs\/uploads\/([^/]+)$/,
  parts: ['NAME_INVALID', 'BLOB_UPLOAD_UNKNOWN'],
  async handle({ registry, authorize }, req, reply, [rawName, id]) {
    const name = assertName(rawName);
    const principal = await authorize(req, 'repository', name, ['push'], ['pull', 'push']);
    const upload = { repo: name, id, owner: principal?.subject };
    switch (req.method) {
      case 'GET': {
        const state = await registry.uploads.state(upload);
        return reply
          .code(204)
          .headers(uploadHeaders(name, id, state.size))
          .send();
      }
      case 'PATCH': {
        const range = parseContentRange(req.headers['content-range']);
        const state = await registry.uploads.append(upload, bodyStream(req), range, contentLength(req));
        return reply
          .code(202)
          .headers({ ...uploadHeaders(name, id, state.size), 'content-length': '0' })
          .send();
      }
      case 'PUT': {
        const digestParam = one(query(req).digest);
        if (digestParam === undefined) {
          throw new RegistryError(
            'DIGEST_INVALID',
            'the closing PUT needs ?digest=<digest of the whole blob>',
          );
        }
        const digest = parseDigest(digestParam);
        const range = parseContentRange(req.headers['content-range']);
        const body = hasBody(req) ? bodyStream(req) : undefined;
        const length = body ? contentLength(req) : undefined;
        const done = await registry.uploads.complete(upload, digest, body, range, length);
        return created(reply, name, 'blobs', done.digest).send();
      }
      case 'DELETE':
        await registry.uploads.cancel(upload);
        return reply.code(204).send();
    }
    throw unsupported(req.method);
  },
};
