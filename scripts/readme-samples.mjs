// Rewrites README.md's ```text samples (the `sigil up` banner, sign/verify output, digests) from a real run of
// its ```sh blocks on a clone of HEAD, so that they show what a fresh clone prints. The work is in
// test/e2e/readme-samples.ts, which test/e2e/readme.test.ts shares to hold the README to the same run.
//
// Usage: node scripts/readme-samples.mjs   (README.md committed; cosign v3 and rekor-cli from scripts/peers.sh)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const program = join(import.meta.dirname, '..', 'test', 'e2e', 'readme-samples.ts');
// tsx runs the TypeScript module as it stands (no build of the test tree).
const run = spawnSync(process.execPath, ['--import', 'tsx', program], { stdio: 'inherit' });
process.exit(run.status ?? 1);
