// `sigil verify-blob`: cosign's verify-blob over a Sigstore bundle, offline against a trusted_root.json. Flags
// and output follow cosign (cmd/cosign/cli/options/certificate.go, verify.go): "Verified OK" on stderr and exit 0,
// or "Error: ..." and exit 1. The checks themselves are src/verify's.
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  type ArtifactInput,
  type IdentityPolicy,
  loadTrustMaterial,
  VerificationError,
  type VerificationPolicy,
  type VerificationResult,
  verifyBundle,
} from '../../verify/index.js';
import { addIdentityFlags, type IdentityFlags, identityPolicyFromFlags } from '../identity-flags.js';

export interface VerifyBlobOptions extends IdentityFlags {
  bundle: string;
  key?: string;
  trustedRoot?: string;
  insecureIgnoreSct?: boolean;
}

const DIGEST_ARG = /^sha256:[0-9a-f]{64}$/;

/**
 * The artifact argument: a file, or `sha256:<hex>` when that is not a path on disk (the rule of the
 * conformance protocol, sigstore/sigstore-conformance docs/cli_protocol.md, FILE_OR_DIGEST).
 */
export async function readArtifactArg(arg: string): Promise<ArtifactInput> {
  if (DIGEST_ARG.test(arg)) {
    const onDisk = await stat(arg).then(
      () => true,
      () => false,
    );
    if (!onDisk) return { digest: Buffer.from(arg.slice(7), 'hex'), algorithm: 'sha256' };
  }
  return readFile(arg);
}

export function policyFromOptions(o: VerifyBlobOptions, keyPem?: string): VerificationPolicy {
  const threshold = o.insecureIgnoreSct ? { ctlogThreshold: 0 } : {};
  if (keyPem !== undefined) return { publicKey: keyPem, ...threshold };
  const identity = identityPolicyFromFlags(o);
  for (const k of Object.keys(identity) as (keyof IdentityPolicy)[])
    if (identity[k] === undefined) delete identity[k];
  return { identity, ...threshold };
}

/** Reads the files named by the options and verifies; throws VerificationError (or a file error). */
export async function verifyBlobFiles(
  artifactArg: string,
  o: VerifyBlobOptions,
): Promise<VerificationResult> {
  const trustedRoot = o.trustedRoot ?? process.env.SIGIL_TRUSTED_ROOT;
  if (!trustedRoot) throw new Error('no trusted root: pass --trusted-root FILE or set SIGIL_TRUSTED_ROOT');
  const [trustJson, bundleJson, artifact, keyPem] = await Promise.all([
    readFile(trustedRoot),
    readFile(o.bundle),
    readArtifactArg(artifactArg),
    o.key === undefined ? undefined : readFile(o.key, 'utf8'),
  ]);
  return verifyBundle(bundleJson, artifact, policyFromOptions(o, keyPem), loadTrustMaterial(trustJson));
}

export function registerVerifyBlobCommand(program: Command): void {
  addIdentityFlags(
    program
      .command('verify-blob')
      .description('verify a Sigstore bundle for a blob, offline (like cosign verify-blob --bundle)')
      .argument('<artifact>', 'the signed file, or sha256:<hex> of it')
      .requiredOption('--bundle <file>', 'Sigstore bundle (.sigstore.json)'),
  )
    .option('--key <file>', 'PEM public key, for key-based signatures')
    .option('--trusted-root <file>', 'trusted_root.json to verify against (default: $SIGIL_TRUSTED_ROOT)')
    .option('--insecure-ignore-sct', 'do not require an embedded SCT in the certificate')
    .action(async (artifact: string, opts: VerifyBlobOptions) => {
      try {
        await verifyBlobFiles(artifact, opts);
      } catch (err) {
        throw err instanceof VerificationError
          ? new Error(`verification failed (${err.code}): ${err.message}`)
          : err;
      }
      process.stderr.write('Verified OK\n');
    });
}
