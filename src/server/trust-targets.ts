// What the TUF repository publishes in `sigil up` and `sigil serve tuf`: the trust files the CA writes to the data
// dir, under the target names Sigstore clients fetch (signing_config.json is a v0.2 signing config, hence its
// target name). Composition, so it lives here: neither the CA nor the TUF service knows the other.
import { join } from 'node:path';
import { SIGSTORE_SIGNING_CONFIG_TARGET, SIGSTORE_TRUSTED_ROOT_TARGET } from '../formats/index.js';
import type { TargetSource } from '../tuf/index.js';
import { SIGNING_CONFIG_FILE, TRUSTED_ROOT_FILE } from './trust-files.js';

export function trustTargets(dataDir: string): TargetSource[] {
  return [
    { name: SIGSTORE_TRUSTED_ROOT_TARGET, path: join(dataDir, TRUSTED_ROOT_FILE) },
    { name: SIGSTORE_SIGNING_CONFIG_TARGET, path: join(dataDir, SIGNING_CONFIG_FILE) },
  ];
}
