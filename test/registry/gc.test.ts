// Garbage collection: blobs no manifest references and abandoned uploads are deleted (after the grace period),
// everything a manifest needs stays pullable; `sigil registry gc` runs it against a live server's data dir.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { openRegistry } from '../../src/server/index.js';
import {
  EMPTY_CONFIG,
  imageManifest,
  pushBlob,
  pushImage,
  putManifest,
  sha256,
  startRegistry,
  type TestRegistry,
} from './helpers.js';

let reg: TestRegistry;
let base: string;

beforeAll(async () => {
  reg = await startRegistry();
  base = reg.url;
});
afterAll(async () => {
  await reg.stop();
});

const head = async (repo: string, digest: string) =>
  (await fetch(`${base}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).status;

async function runCli(args: string[]): Promise<string> {
  const program = buildProgram();
  program.exitOverride();
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe('garbage collection', () => {
  it('deletes unreferenced blobs and abandoned uploads, keeps what manifests use', async () => {
    const kept = await pushImage(base, 'gc/app', 'v1');
    const orphan = await pushBlob(base, 'gc/app', Buffer.from('nobody references me'));
    // A second image sharing the config blob, then deleted: its own layer becomes garbage, the config does not.
    const layer = Buffer.from('layer of a deleted image');
    const layerDigest = await pushBlob(base, 'gc/app', layer);
    const config = await pushBlob(base, 'gc/app', EMPTY_CONFIG);
    const doomed = imageManifest({ digest: config, size: 2 }, [{ digest: layerDigest, size: layer.length }]);
    expect((await putManifest(base, 'gc/app', 'doomed', doomed)).status).toBe(201);
    expect((await fetch(`${base}/v2/gc/app/manifests/${sha256(doomed)}`, { method: 'DELETE' })).status).toBe(
      202,
    );
    const abandoned = (await fetch(`${base}/v2/gc/app/blobs/uploads/`, { method: 'POST' })).headers.get(
      'location',
    )!;

    // Everything is fresh: with the default grace period nothing goes.
    const fresh = JSON.parse(await runCli(['registry', 'gc', '--data-dir', reg.dataDir, '--json']));
    expect(fresh.blobsDeleted).toEqual([]);
    expect(fresh.uploadsDeleted).toEqual([]);

    const dry = JSON.parse(
      await runCli(['registry', 'gc', '--data-dir', reg.dataDir, '--grace', '0', '--dry-run', '--json']),
    );
    expect(dry.blobsDeleted.sort()).toEqual([orphan, layerDigest].sort());
    expect(await head('gc/app', orphan)).toBe(200);

    const report = JSON.parse(
      await runCli(['registry', 'gc', '--data-dir', reg.dataDir, '--grace', '0', '--json']),
    );
    expect(report.blobsDeleted.sort()).toEqual([orphan, layerDigest].sort());
    expect(report.bytesFreed).toBe('nobody references me'.length + layer.length);
    expect(report.uploadsDeleted).toEqual([abandoned.split('/').pop()]);
    expect(report.manifestContentDeleted).toBe(0);

    expect(await head('gc/app', orphan)).toBe(404);
    expect(await head('gc/app', layerDigest)).toBe(404);
    expect(await head('gc/app', kept.layerDigest)).toBe(200);
    expect(await head('gc/app', kept.configDigest)).toBe(200);
    const pulled = await fetch(`${base}/v2/gc/app/blobs/${kept.layerDigest}`);
    expect(sha256(Buffer.from(await pulled.arrayBuffer()))).toBe(kept.layerDigest);
    expect((await fetch(`${base}${abandoned}`)).status).toBe(404);
    // The blob files are gone from disk too.
    const files = await readdir(join(reg.dataDir, 'registry', 'blobs', 'sha256'), { recursive: true });
    expect(files.some((f) => f.endsWith(orphan.slice(7)))).toBe(false);
  });

  it('runs on a data dir with no server', async () => {
    const dir = join(reg.dataDir, 'empty-instance');
    await mkdir(dir, { recursive: true });
    const r = await openRegistry(dir);
    try {
      expect(await r.collectGarbage({ graceMs: 0 })).toEqual({
        blobsDeleted: [],
        bytesFreed: 0,
        uploadsDeleted: [],
        manifestContentDeleted: 0,
      });
    } finally {
      await r.close();
    }
  });
});
