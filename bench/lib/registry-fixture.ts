// The manifest the registry benchmarks read back (bench/registry, bench/pg): a config blob, one layer and an OCI
// image manifest tagged v1 in bench/manifest, pushed over the distribution-spec API (monolithic uploads).
import { createHash } from 'node:crypto';

/** Pushes it to the registry at `url` (`name` for messages). */
export async function pushManifest(url: string, name = 'registry'): Promise<void> {
  const put = async (data: Buffer) => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const res = await fetch(`${url}/v2/bench/manifest/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: data,
    });
    if (res.status === 202) {
      const loc = new URL(res.headers.get('location')!, url);
      loc.searchParams.set('digest', digest);
      const put2 = await fetch(loc, { method: 'PUT', body: data });
      if (put2.status !== 201) throw new Error(`${name}: blob PUT ${put2.status}`);
    } else if (res.status !== 201) throw new Error(`${name}: blob POST ${res.status}`);
    return { digest, size: data.length };
  };
  const config = await put(
    Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'),
  );
  const layer = await put(Buffer.from('layer'));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  });
  const res = await fetch(`${url}/v2/bench/manifest/manifests/v1`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (res.status !== 201) throw new Error(`${name}: manifest PUT ${res.status} ${await res.text()}`);
}
