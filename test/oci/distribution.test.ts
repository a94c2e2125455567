// The OCI client against a real peer: CNCF distribution 2.8 (`docker-registry`) on loopback, anonymous.
// Blobs (monolithic, chunked, mounted), manifests, tags, the referrers tag-schema fallback (2.8 has no
// referrers API), cosign's appended `.sig` layers, and the checks that catch a registry serving wrong bytes.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from '../../src/formats/index.js';
import {
  appendCosignLayer,
  cosignAnnotations,
  digestOf,
  type ImageManifest,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_EMPTY_DIGEST,
  OCI_MANIFEST,
  OciError,
  parseReference,
  RegistryClient,
  readCosignLayers,
  referrersTag,
  signatureTag,
} from '../../src/oci/index.js';
import { type DockerRegistry, freePort, startDockerRegistry } from './helpers/docker-registry.js';

let reg: DockerRegistry;
let client: RegistryClient;
const warnings: string[] = [];
const CHUNK = 64 * 1024;

beforeAll(async () => {
  reg = await startDockerRegistry();
  client = new RegistryClient({ chunkSize: CHUNK, useAuthFiles: false, onWarning: (m) => warnings.push(m) });
});
afterAll(async () => {
  await reg?.stop();
});

const ref = (s: string) => parseReference(`${reg.host}/${s}`);
const blobOf = (data: Buffer) => ({ digest: digestOf(data), size: data.length, open: () => data });

async function expectOciError(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  );
  expect(err, 'expected an error').toBeInstanceOf(OciError);
  expect((err as OciError).code).toBe(code);
  expect((err as Error).message).toMatch(message);
}

/** Pushes a tiny image (one layer, a config) and returns its manifest digest. */
async function pushTinyImage(repo: string, tag: string, content = 'layer'): Promise<string> {
  const layer = Buffer.from(content);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const r = ref(`${repo}:${tag}`);
  await client.uploadBlob(r, blobOf(layer));
  await client.uploadBlob(r, blobOf(config));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.length },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.length },
    ],
  };
  return (await client.putManifest(r, manifest)).digest;
}

/** Where distribution's filesystem driver keeps a blob's bytes. */
function storedBlobPath(digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(reg.dir, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

describe('blobs', () => {
  it('uploads monolithically, reports existing blobs, and downloads verified bytes', async () => {
    const data = randomBytes(1000);
    const r = ref('blobs/mono');
    expect(await client.blobExists(r, digestOf(data))).toBe(false);
    expect(await client.uploadBlob(r, blobOf(data))).toBe('uploaded');
    expect(await client.blobSize(r, digestOf(data))).toBe(1000);
    expect(await client.uploadBlob(r, blobOf(data))).toBe('existed');
    expect((await client.getBlobBytes(r, digestOf(data))).equals(data)).toBe(true);
  });

  it('uploads in chunks above chunkSize, reporting progress, from a stream', async () => {
    const data = randomBytes(CHUNK * 3 + 123);
    const r = ref('blobs/chunked');
    const seen: number[] = [];
    const { Readable } = await import('node:stream');
    const outcome = await client.uploadBlob(
      r,
      {
        digest: digestOf(data),
        size: data.length,
        open: () => Readable.from([data.subarray(0, 5000), data.subarray(5000)]),
      },
      { onProgress: (sent) => seen.push(sent) },
    );
    expect(outcome).toBe('uploaded');
    expect(seen).toEqual([CHUNK, 2 * CHUNK, 3 * CHUNK, data.length, data.length]);
    expect((await client.getBlobBytes(r, digestOf(data), 1 << 20)).equals(data)).toBe(true);
  });

  it('mounts a blob from another repository instead of uploading it', async () => {
    const data = randomBytes(500);
    await client.uploadBlob(ref('blobs/source'), blobOf(data));
    expect(await client.uploadBlob(ref('blobs/target'), blobOf(data), { mountFrom: 'blobs/source' })).toBe(
      'mounted',
    );
    expect((await client.getBlobBytes(ref('blobs/target'), digestOf(data))).equals(data)).toBe(true);
    // A mount from a repository without the blob falls back to uploading it.
    const other = randomBytes(10);
    expect(await client.uploadBlob(ref('blobs/target2'), blobOf(other), { mountFrom: 'blobs/source' })).toBe(
      'uploaded',
    );
  });

  it('refuses a source that does not match its declared size', async () => {
    const data = randomBytes(CHUNK + 10);
    await expect(
      client.uploadBlob(ref('blobs/short'), {
        digest: digestOf(data),
        size: data.length + 5,
        open: () => data,
      }),
    ).rejects.toThrow(/source gave/);
  });

  it('detects a registry serving bytes that do not match the digest', async () => {
    const data = Buffer.from('the real content of this blob');
    const r = ref('blobs/corrupt');
    await client.uploadBlob(r, blobOf(data));
    const path = storedBlobPath(digestOf(data));
    const stored = await readFile(path);
    await writeFile(path, Buffer.from(stored.toString().replace('real', 'fake')));
    await expectOciError(client.getBlobBytes(r, digestOf(data)), 'DIGEST_MISMATCH', /hashes to sha256:/);
  });

  it('says which blob was missing', async () => {
    const missing = digestOf('never pushed');
    await expectOciError(
      client.getBlobBytes(ref('blobs/mono'), missing),
      'NOT_FOUND',
      new RegExp(`blobs/mono@${missing}.*404`),
    );
  });
});

describe('manifests and tags', () => {
  it('pushes and pulls manifests byte-for-byte, resolves tags with a warning, lists tags', async () => {
    const digest = await pushTinyImage('app/one', 'v1');
    const byTag = await client.getManifest(ref('app/one:v1'));
    expect(byTag.digest).toBe(digest);
    expect(byTag.mediaType).toBe(OCI_MANIFEST);
    const byDigest = await client.getManifest(ref(`app/one@${digest}`));
    expect(byDigest.bytes.equals(byTag.bytes)).toBe(true);
    warnings.length = 0;
    const resolved = await client.resolve(ref('app/one:v1'));
    expect(resolved).toEqual({ mediaType: OCI_MANIFEST, digest, size: byTag.bytes.length });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/resolved tag .*app\/one:v1 to sha256:/);
    expect((await client.resolve(ref(`app/one@${digest}`))).digest).toBe(digest);
    expect(warnings).toHaveLength(1); // no warning for a digest
    await pushTinyImage('app/one', 'v2', 'other layer');
    await pushTinyImage('app/one', 'a-first', 'third layer');
    expect(await client.listTags(ref('app/one'))).toEqual(['a-first', 'v1', 'v2']);
  });

  it('gives clear errors for unknown tags, repositories and digests', async () => {
    await pushTinyImage('app/two', 'v1');
    await expectOciError(
      client.getManifest(ref('app/two:nope')),
      'NOT_FOUND',
      /app\/two:nope: not found \(404\).*MANIFEST_UNKNOWN/,
    );
    await expectOciError(
      client.resolve(ref('app/none:v1')),
      'NOT_FOUND',
      /resolve .*app\/none:v1: not found/,
    );
    await expectOciError(client.listTags(ref('app/none')), 'NOT_FOUND', /NAME_UNKNOWN/);
    await expectOciError(client.getManifest(ref(`app/two@${digestOf('x')}`)), 'NOT_FOUND', /not found/);
  });

  it('refuses a manifest whose bytes do not match the digest it was fetched by', async () => {
    const digest = await pushTinyImage('app/corrupt', 'v1');
    const path = storedBlobPath(digest);
    const stored = await readFile(path);
    await writeFile(path, Buffer.from(stored.toString().replace('"schemaVersion":2', '"schemaVersion": 2')));
    await expectOciError(client.getManifest(ref(`app/corrupt@${digest}`)), 'DIGEST_MISMATCH', /hashes to/);
  });

  it('reports the registry rejecting a manifest that references missing blobs', async () => {
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: digestOf('missing config'), size: 14 },
      layers: [],
    };
    await expectOciError(
      client.putManifest(ref('app/bad:v1'), manifest),
      'REGISTRY_ERROR',
      /HTTP 400.*BLOB_UNKNOWN|MANIFEST_BLOB_UNKNOWN/,
    );
  });

  it('reports an unreachable registry as a network error', async () => {
    const port = await freePort();
    await expectOciError(
      new RegistryClient({ useAuthFiles: false }).getManifest(parseReference(`127.0.0.1:${port}/x:y`)),
      'NETWORK',
      /cannot reach http:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/,
    );
  });
});

describe('referrers (tag schema fallback on distribution 2.8)', () => {
  async function pushArtifact(
    repo: string,
    subject: string,
    artifactType: string,
    body: string,
    annotations = {},
  ) {
    const r = ref(repo);
    const empty = Buffer.from('{}');
    const blob = Buffer.from(body);
    await client.uploadBlob(r, blobOf(empty));
    await client.uploadBlob(r, blobOf(blob));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: OCI_EMPTY, digest: OCI_EMPTY_DIGEST, size: 2 },
      layers: [{ mediaType: 'application/json', digest: digestOf(blob), size: blob.length }],
      subject: { mediaType: OCI_MANIFEST, digest: subject, size: 100 },
      annotations,
    };
    return client.putManifest({ ...r, digest: digestOf(Buffer.from(JSON.stringify(manifest))) }, manifest);
  }

  it('maintains and reads the sha256-<hex> index when the registry has no referrers API', async () => {
    const subject = await pushTinyImage('ref/app', 'v1');
    const r = ref(`ref/app@${subject}`);
    expect(await client.referrers(r)).toEqual({ manifests: [], source: 'tag-schema' });

    const sbom = await pushArtifact('ref/app', subject, 'application/vnd.example.sbom', '{"sbom":1}', {
      'org.example': 'x',
    });
    expect(sbom.referrersTag).toBe(referrersTag(subject));
    const sig = await pushArtifact('ref/app', subject, 'application/vnd.example.sig', '{"sig":1}');

    const all = await client.referrers(r);
    expect(all.source).toBe('tag-schema');
    expect(all.manifests).toEqual([
      {
        mediaType: OCI_MANIFEST,
        digest: sbom.digest,
        size: sbom.size,
        artifactType: 'application/vnd.example.sbom',
        annotations: { 'org.example': 'x' },
      },
      {
        mediaType: OCI_MANIFEST,
        digest: sig.digest,
        size: sig.size,
        artifactType: 'application/vnd.example.sig',
      },
    ]);
    const onlySboms = await client.referrers(r, 'application/vnd.example.sbom');
    expect(onlySboms.manifests.map((d) => d.digest)).toEqual([sbom.digest]);

    // Pushing the same artifact again does not list it twice.
    await pushArtifact('ref/app', subject, 'application/vnd.example.sbom', '{"sbom":1}', {
      'org.example': 'x',
    });
    expect((await client.referrers(r)).manifests).toHaveLength(2);
    // The fallback index is an ordinary tag others (skopeo, oras, cosign) can read.
    const index = await client.getManifest(ref(`ref/app:${referrersTag(subject)}`));
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
  });

  it('refuses to overwrite a referrers tag that holds something other than an index', async () => {
    const subject = await pushTinyImage('ref/clash', 'v1');
    await pushTinyImage('ref/clash', referrersTag(subject), 'squatter');
    await expectOciError(
      pushArtifact('ref/clash', subject, 'application/x', '{}'),
      'BAD_RESPONSE',
      /not an image index; left unchanged/,
    );
    // Reading treats it as "no referrers" (spec: SHOULD assume none).
    expect((await client.referrers(ref(`ref/clash@${subject}`))).manifests).toEqual([]);
  });
});

describe('cosign signature layout', () => {
  it('appends signature layers to the .sig manifest and reads them back with their annotations', async () => {
    const subject = await pushTinyImage('cosign/app', 'v1');
    const repo = ref('cosign/app');
    expect(await readCosignLayers(client, repo, subject)).toBeUndefined();
    const payload = (n: number) =>
      Buffer.from(
        JSON.stringify({
          critical: {
            identity: { 'docker-reference': `${reg.host}/cosign/app` },
            image: { 'docker-manifest-digest': subject },
            type: 'cosign container image signature',
          },
          optional: { n },
        }),
      );
    const bundle = {
      SignedEntryTimestamp: 'c2V0',
      Payload: { body: 'Ym9keQ==', integratedTime: 1, logIndex: 2, logID: 'ab' },
    };
    const first = await appendCosignLayer(client, repo, subject, {
      payload: payload(1),
      mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
      annotations: cosignAnnotations({
        signature: 'c2lnMQ==',
        certificate: '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n',
        bundle,
      }),
    });
    expect(first.tag).toBe(signatureTag(subject));
    expect(first.appended).toBe(true);
    const second = await appendCosignLayer(client, repo, subject, {
      payload: payload(2),
      mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
      annotations: cosignAnnotations({ signature: 'c2lnMg==' }),
    });
    expect(second.digest).not.toBe(first.digest);
    const again = await appendCosignLayer(client, repo, subject, {
      payload: payload(2),
      mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
      annotations: cosignAnnotations({ signature: 'c2lnMg==' }),
    });
    expect(again).toMatchObject({ appended: false, digest: second.digest });

    const read = await readCosignLayers(client, repo, subject);
    expect(read?.manifestDigest).toBe(second.digest);
    expect(read?.layers.map((l) => l.signature)).toEqual(['c2lnMQ==', 'c2lnMg==']);
    expect(read?.layers[0].payload.equals(payload(1))).toBe(true);
    expect(read?.layers[0].bundle).toEqual(bundle);
    expect(read?.layers[0].annotations[CERTIFICATE_ANNOTATION]).toMatch(/BEGIN CERTIFICATE/);
    expect(read?.layers[1].certificate).toBeUndefined();
    expect(read?.layers[0].descriptor.mediaType).toBe(SIMPLE_SIGNING_MEDIA_TYPE);
    // The config is a valid image config listing each payload as a layer.
    const config = JSON.parse((await client.getBlobBytes(repo, read!.manifest.config.digest)).toString());
    expect(config.rootfs.diff_ids).toEqual(read?.layers.map((l) => l.descriptor.digest));
  });

  it('rejects a malformed bundle annotation', async () => {
    const subject = await pushTinyImage('cosign/bad', 'v1');
    const repo = ref('cosign/bad');
    await appendCosignLayer(client, repo, subject, {
      payload: Buffer.from('{}'),
      mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
      annotations: { 'dev.cosignproject.cosign/signature': 'x', [BUNDLE_ANNOTATION]: '{"Payload":{}}' },
    });
    await expectOciError(
      readCosignLayers(client, repo, subject),
      'BAD_RESPONSE',
      /lacks SignedEntryTimestamp/,
    );
  });
});
