// Referrers (end-12a/12b, "Listing Referrers"): the manifests whose subject is a digest, as an OCI image index.
import { OCI_INDEX } from '../manifests.js';
import { assertName, parseDigest } from '../names.js';
import { type Endpoint, one, query, unsupported } from './common.js';

export const referrers: Endpoint = {
  path: /^(.+)\/referrers\/([^/]+)$/,
  parts: ['NAME_INVALID', 'DIGEST_INVALID'],
  async handle({ registry, authorize }, req, reply, [rawName, rawDigest]) {
    const name = assertName(rawName);
    if (req.method !== 'GET') throw unsupported(req.method);
    await authorize(req, 'repository', name, ['pull']);
    const digest = parseDigest(rawDigest);
    const artifactType = one(query(req).artifactType);
    const manifests = await registry.referrers(name, digest, artifactType);
    if (artifactType !== undefined) reply.header('oci-filters-applied', 'artifactType');
    // Sent as bytes so that no charset parameter is appended: the spec wants exactly this media type.
    return reply
      .header('content-type', OCI_INDEX)
      .send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })));
  },
};
