// Measures sigil's OCI client against CNCF distribution (docker-registry, a separate process) on loopback:
// blob upload (monolithic 64 KiB, chunked 8 MiB in 2 MiB chunks), verified blob download, manifest GET by digest.
// Usage: npx tsx bench/oci/client-bench.ts [iterations]   (prints p50/p99 per operation and throughput)
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  digestOf,
  type ImageManifest,
  OCI_CONFIG,
  OCI_MANIFEST,
  parseReference,
  RegistryClient,
} from '../../src/oci/index.js';
import { startDockerRegistry } from '../../test/oci/helpers/docker-registry.js';
import { percentile } from '../lib/stats.js';

const iterations = Number(process.argv[2] ?? 50);

function pct(xs: number[], p: number): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    p,
  );
}

async function measure(
  name: string,
  n: number,
  bytesEach: number,
  op: (i: number) => Promise<void>,
): Promise<void> {
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  const secs = (performance.now() - start) / 1000;
  const mbps = bytesEach ? ` ${((bytesEach * n) / secs / 1024 / 1024).toFixed(1)} MiB/s` : '';
  console.log(
    `${name.padEnd(34)} n=${n} p50=${pct(times, 50).toFixed(2)}ms p99=${pct(times, 99).toFixed(2)}ms ${(n / secs).toFixed(1)} op/s${mbps}`,
  );
}

const reg = await startDockerRegistry();
try {
  const client = new RegistryClient({ useAuthFiles: false, chunkSize: 2 * 1024 * 1024 });
  const ref = parseReference(`${reg.host}/bench/app`);
  const small = Array.from({ length: iterations }, () => randomBytes(64 * 1024));
  await measure('upload 64 KiB (POST+PUT)', iterations, 64 * 1024, async (i) => {
    const b = small[i];
    await client.uploadBlob(ref, { digest: digestOf(b), size: b.length, open: () => b });
  });
  const bigN = Math.max(3, Math.floor(iterations / 10));
  const big = Array.from({ length: bigN }, () => randomBytes(8 * 1024 * 1024));
  await measure('upload 8 MiB (chunked, 2 MiB)', bigN, 8 * 1024 * 1024, async (i) => {
    const b = big[i];
    await client.uploadBlob(ref, { digest: digestOf(b), size: b.length, open: () => b });
  });
  await measure('download 8 MiB (verified)', bigN, 8 * 1024 * 1024, async (i) => {
    await client.getBlobBytes(ref, digestOf(big[i]), 16 * 1024 * 1024);
  });
  const config = Buffer.from('{}');
  await client.uploadBlob(ref, { digest: digestOf(config), size: 2, open: () => config });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: 2 },
    layers: [],
  };
  const { digest } = await client.putManifest({ ...ref, tag: 'v1' }, manifest);
  await measure('GET manifest by digest', iterations * 4, 0, async () => {
    await client.getManifest({ ...ref, digest });
  });
} finally {
  await reg.stop();
}
