// Bundle verifications per second: sigil's verifier vs sigstore-js (@sigstore/verify Verifier) on the same
// public-good bundles, each implementation in its own child process, one after the other (never concurrently,
// so they do not share the CPU). Trust material is loaded once per process, as a long-running verifier would;
// each timed operation starts from the bundle's parsed JSON and the artifact bytes.
// Usage: npx tsx bench/verify/run.ts [seconds-per-run=3]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = join(import.meta.dirname, '../..');
const CASES = join(ROOT, 'test/fixtures/conformance/bundle-verify');
const IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const BUNDLES: Record<string, string> = {
  'message signature (happy-path-v0.3)': 'happy-path-v0.3',
  'DSSE in-toto (happy-path-intoto-in-dsse-v3)': 'happy-path-intoto-in-dsse-v3',
};

interface Result {
  impl: string;
  bundle: string;
  ops: number;
  opsPerSec: number;
  /** Operations per CPU-second of this process (user + system): robust when other processes share the CPU. */
  opsPerCpuSec: number;
  p50: number;
  p99: number;
}

async function worker(impl: string, caseName: string, seconds: number): Promise<Result> {
  const trustJson = JSON.parse(
    readFileSync(join(ROOT, 'test/fixtures/public-good-trusted_root.json'), 'utf8'),
  );
  const bundleJson = JSON.parse(readFileSync(join(CASES, caseName, 'bundle.sigstore.json'), 'utf8'));
  const artifact = readFileSync(join(CASES, 'a.txt'));
  let once: () => void;
  if (impl === 'sigil') {
    const { loadTrustMaterial, verifyBundle } = await import('../../src/verify/index.js');
    const trust = loadTrustMaterial(trustJson);
    const policy = { identity: { subjectAlternativeName: IDENTITY, issuer: ISSUER } };
    once = () => verifyBundle(bundleJson, artifact, policy, trust);
  } else {
    const { bundleFromJSON } = await import('@sigstore/bundle');
    const { toSignedEntity, toTrustMaterial, Verifier } = await import('@sigstore/verify');
    const { TrustedRoot } = await import('@sigstore/protobuf-specs');
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(trustJson)));
    // Same policy as sigil's: exact SAN (anchored regexp) and exact issuer.
    const policy = {
      subjectAlternativeName: `^${IDENTITY.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
      extensions: { issuer: ISSUER },
    };
    once = () => verifier.verify(toSignedEntity(bundleFromJSON(bundleJson), artifact), policy);
  }
  for (let i = 0; i < 200; i++) once(); // warm-up: JIT, caches
  const samples: number[] = [];
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  while (performance.now() < end) {
    const t = performance.now();
    once();
    samples.push(performance.now() - t);
  }
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return {
    impl,
    bundle: caseName,
    ops: samples.length,
    opsPerSec: samples.length / elapsed,
    opsPerCpuSec: samples.length / cpuSec,
    p50: pct(0.5),
    p99: pct(0.99),
  };
}

async function main(): Promise<void> {
  const [mode, impl, caseName, secondsArg] = process.argv.slice(2);
  if (mode === 'worker') {
    process.stdout.write(JSON.stringify(await worker(impl, caseName, Number(secondsArg))));
    return;
  }
  const seconds = Number(mode ?? 3);
  const lines: string[] = [];
  for (const [label, caseName] of Object.entries(BUNDLES)) {
    const results: Result[] = [];
    for (const impl of ['sigil', 'sigstore-js']) {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', import.meta.filename, 'worker', impl, caseName, String(seconds)],
        {
          cwd: ROOT,
        },
      );
      results.push(JSON.parse(out.toString()));
    }
    const [ours, theirs] = results;
    lines.push(`${label}:`);
    for (const r of results) {
      lines.push(
        `  ${r.impl.padEnd(12)} ${r.opsPerSec.toFixed(0).padStart(6)} verifications/s (${r.opsPerCpuSec.toFixed(0)} per CPU-second)   p50 ${r.p50.toFixed(3)} ms   p99 ${r.p99.toFixed(3)} ms   (${r.ops} ops)`,
      );
    }
    lines.push(
      `  speed-up: ${(ours.opsPerSec / theirs.opsPerSec).toFixed(1)}x wall-clock throughput, ${(ours.opsPerCpuSec / theirs.opsPerCpuSec).toFixed(1)}x per CPU-second, ${(theirs.p50 / ours.p50).toFixed(1)}x p50 latency`,
    );
  }
  console.log(lines.join('\n'));
}

await main();
