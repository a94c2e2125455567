// The referrers API path (distribution-spec v1.1 "Listing Referrers", "Pushing Manifests with Subject").
// distribution 2.8 has no referrers API, so this runs against a REFERRERS API TEST DOUBLE standing in for a
// v1.1 registry (zot, distribution 3, sigil's own registry once merged): it serves paged referrers lists,
// honours or ignores the artifactType filter, and answers manifest PUTs with OCI-Subject.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Descriptor,
  type ImageManifest,
  OCI_EMPTY,
  OCI_EMPTY_DIGEST,
  OCI_MANIFEST,
  parseReference,
  RegistryClient,
} from '../../src/oci/index.js';

const SUBJECT = `sha256:${'5'.repeat(64)}`;
const listed: Descriptor[] = [1, 2, 3].map((i) => ({
  mediaType: OCI_MANIFEST,
  digest: `sha256:${String(i).repeat(64)}`,
  size: 100 + i,
  artifactType: i === 2 ? 'application/vnd.example.sig' : 'application/vnd.example.sbom',
}));

let server: Server;
let host: string;
const seen: string[] = [];

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    const m = /^\/v2\/app\/referrers\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (req.method === 'GET' && m) {
      const filter = url.searchParams.get('artifactType');
      const page = Number(url.searchParams.get('page') ?? '0');
      // Filtering is applied only on the first page, to exercise both the registry's and the client's filter.
      const items = listed
        .slice(page * 2, page * 2 + 2)
        .filter((d) => !(filter && page === 0) || d.artifactType === filter);
      const headers: Record<string, string> = { 'content-type': 'application/vnd.oci.image.index.v1+json' };
      if (page === 0)
        headers.link = `</v2/app/referrers/${m[1]}?page=1${filter ? `&artifactType=${encodeURIComponent(filter)}` : ''}>; rel="next"`;
      if (filter && page === 0) headers['oci-filters-applied'] = 'artifactType';
      res.writeHead(200, headers).end(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: items,
        }),
      );
      return;
    }
    if (req.method === 'PUT' && url.pathname.startsWith('/v2/app/manifests/')) {
      const bytes = await body(req);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      const manifest = JSON.parse(bytes.toString());
      const headers: Record<string, string> = {
        'docker-content-digest': digest,
        location: `/v2/app/manifests/${digest}`,
      };
      if (manifest.subject) headers['oci-subject'] = manifest.subject.digest;
      res.writeHead(201, headers).end();
      return;
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end('{"errors":[{"code":"NOT_FOUND","message":"not in the double"}]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('referrers API', () => {
  const client = () => new RegistryClient({ useAuthFiles: false });

  it('follows Link pages and reports the API as the source', async () => {
    const got = await client().referrers(parseReference(`${host}/app@${SUBJECT}`));
    expect(got).toEqual({ manifests: listed, source: 'api' });
  });

  it('filters by artifactType on pages where the registry did not say it had', async () => {
    const got = await client().referrers(
      parseReference(`${host}/app@${SUBJECT}`),
      'application/vnd.example.sbom',
    );
    expect(got.manifests.map((d) => d.digest)).toEqual([listed[0].digest, listed[2].digest]);
  });

  it('leaves the referrers tag alone when the registry answers OCI-Subject', async () => {
    seen.length = 0;
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.sig',
      config: { mediaType: OCI_EMPTY, digest: OCI_EMPTY_DIGEST, size: 2 },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: SUBJECT, size: 10 },
    };
    const pushed = await client().putManifest(parseReference(`${host}/app:sig`), manifest);
    expect(pushed.referrersTag).toBeUndefined();
    expect(seen).toEqual(['PUT /v2/app/manifests/sig']);
  });
});
