// `sigil verify-blob` and `sigil verify-blob-attestation`: cosign's verify-blob over a Sigstore bundle, or over a
// detached --signature with its --certificate (+ --certificate-chain) or --key, whose log entry is looked up by the
// artifact's digest; the artifact may come on standard input ("-"). Verified offline against trusted_root.json.
// Flags and output follow cosign (cmd/cosign/cli/options/certificate.go, verify.go): "Verified OK" on stderr and
// exit 0, or "Error: ..." and exit 1. The checks themselves are src/verify's.
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  type ArtifactInput,
  type IdentityPolicy,
  loadTrustMaterial,
  type TrustMaterial,
  VerificationError,
  type VerificationPolicy,
  type VerificationResult,
  verifyBundle,
} from '../../verify/index.js';
import { readInput, resolveServices } from '../context.js';
import { CliError } from '../errors.js';
import { addIdentityFlags, type IdentityFlags, identityPolicyFromFlags } from '../identity-flags.js';

export interface VerifyBlobOptions extends IdentityFlags {
  bundle?: string;
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
  return readInput(arg);
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
    readFile(o.bundle ?? ''),
    readArtifactArg(artifactArg),
    o.key === undefined ? undefined : readFile(o.key, 'utf8'),
  ]);
  return verifyBundle(bundleJson, artifact, policyFromOptions(o, keyPem), loadTrustMaterial(trustJson));
}

export interface DetachedOptions extends VerifyBlobOptions {
  signature?: string;
  certificate?: string;
  certificateChain?: string;
  insecureIgnoreTlog?: boolean;
  rekorUrl?: string;
  signingConfig?: string;
}

/** A base64 signature file as cosign writes it (--output-signature), or the raw signature bytes. */
function signatureBytes(file: Buffer): Buffer {
  const text = file.toString('utf8').trim();
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : file;
}

/** A certificate file: PEM, or base64 of PEM (as older cosign wrote --output-certificate), as DER. */
function certificateDer(file: Buffer, name: string): Buffer[] {
  let text = file.toString('utf8');
  if (!text.includes('-----BEGIN')) text = Buffer.from(text.trim(), 'base64').toString('utf8');
  const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)];
  if (blocks.length === 0) throw new CliError(`${name} holds no PEM certificate`);
  return blocks.map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}

/**
 * cosign's detached verification: the signature and its certificate (or key) as files, and the log entry found
 * in the transparency log by the artifact's digest (cosign asks Rekor the same way), unless
 * --insecure-ignore-tlog. The pieces become one bundle and the bundle is verified as any other.
 */
async function detachedBundle(artifact: Buffer, o: DetachedOptions): Promise<Record<string, unknown>> {
  const { createHash } = await import('node:crypto');
  const { buildBundle, RekorClient } = await import('../../sign/index.js');
  const { entryBody, toBundleTlogEntry } = await import('../../formats/index.js');
  const signature = signatureBytes(await readInput(o.signature!));
  const digest = createHash('sha256').update(artifact).digest();
  const certificate = o.certificate
    ? certificateDer(await readInput(o.certificate), o.certificate)[0]
    : undefined;
  const tlogEntries: Record<string, unknown>[] = [];
  if (!o.insecureIgnoreTlog) {
    const { rekorUrl } = await resolveServices(o);
    if (!rekorUrl)
      throw new CliError(
        'no transparency log to look the signature up in: pass --rekor-url, run `sigil initialize`, or --insecure-ignore-tlog',
      );
    const rekor = new RekorClient(rekorUrl);
    const wanted = signature.toString('base64');
    for (const uuid of await rekor.searchIndex({ hash: `sha256:${digest.toString('hex')}` })) {
      const entry = await rekor.getByUuid(uuid);
      const body = entryBody(entry);
      const spec = body.spec as { signature?: { content?: string } } | undefined;
      if (body.kind === 'hashedrekord' && spec?.signature?.content === wanted) {
        tlogEntries.push(toBundleTlogEntry(entry));
        break;
      }
    }
    if (tlogEntries.length === 0)
      throw new CliError(
        `no transparency log entry in ${rekorUrl} for this signature: was it signed with --tlog-upload=false? (--insecure-ignore-tlog skips the log, insecurely)`,
      );
  }
  return buildBundle({ messageSignature: { digest, signature }, certificate, tlogEntries });
}

/** --certificate-chain: sigil trusts the trusted root's CAs only, so every certificate given must be one of them. */
async function checkChainTrusted(chainFile: string, trust: TrustMaterial): Promise<void> {
  const given = certificateDer(await readInput(chainFile), chainFile);
  const known = trust.certificateAuthorities.flatMap((a) => a.chain.map((c) => c.cert.der));
  for (const [i, der] of given.entries())
    if (!known.some((k) => Buffer.compare(k, der) === 0))
      throw new CliError(
        `${chainFile}: certificate ${i} is not a CA of the trusted root; sigil verifies chains against the trusted root only`,
      );
}

/** The CLI's verify-blob: a bundle, or cosign's detached --signature with --certificate or --key. */
async function verifyBlobCli(artifactArg: string, o: DetachedOptions, attestationType?: string) {
  const { loadTrust, publicKeyRef, warn } = await import('../context.js');
  const { IGNORE_TLOG_WARNING } = await import('./verify.js');
  if (o.insecureIgnoreTlog) warn(IGNORE_TLOG_WARNING);
  if (!o.bundle && !o.signature)
    throw new CliError('give --bundle FILE, or --signature FILE with --certificate FILE or --key KEY');
  if (o.signature && !o.bundle && !o.certificate && !o.key)
    throw new CliError('--signature needs --certificate FILE (keyless) or --key KEY');
  // What keyless verification requires is said before any file is read or the log is asked.
  if (o.key === undefined && !o.certificateIdentity && !o.certificateIdentityRegexp)
    throw new CliError(
      '--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode',
    );
  if (o.key === undefined && !o.certificateOidcIssuer && !o.certificateOidcIssuerRegexp)
    throw new CliError(
      '--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode',
    );
  const trustedRoot = o.trustedRoot ?? process.env.SIGIL_TRUSTED_ROOT;
  const [trust, artifact, publicKey] = await Promise.all([
    o.key && o.insecureIgnoreTlog ? emptyTrust() : loadTrust({ trustedRoot }),
    artifactArg === '-' ? readInput('-') : readArtifactArg(artifactArg),
    o.key === undefined ? undefined : publicKeyRef(o.key),
  ]);
  if (o.certificateChain) await checkChainTrusted(o.certificateChain, trust);
  let bundle: unknown;
  if (o.bundle) {
    const text = (await readInput(o.bundle)).toString('utf8');
    try {
      bundle = JSON.parse(text);
    } catch {
      throw new CliError(
        `${o.bundle} is not a bundle (not JSON): give the .sigstore.json that sign-blob wrote`,
      );
    }
  } else {
    if (!Buffer.isBuffer(artifact))
      throw new CliError('a detached signature needs the artifact itself, not its digest');
    if (publicKey && o.insecureIgnoreTlog) {
      // cosign checks only the signature then: no log entry, and no time of signing to check a key against.
      const { verify } = await import('node:crypto');
      const signature = signatureBytes(await readInput(o.signature!));
      const hash = publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
      let ok = false;
      try {
        ok = verify(hash, artifact, publicKey, signature);
      } catch {
        ok = false;
      }
      if (!ok)
        throw new CliError(
          'verification failed (SIGNATURE_INVALID): the signature does not verify with the key',
        );
      return;
    }
    bundle = await detachedBundle(artifact, o);
  }
  const policy = policyFromOptions(o);
  const full: VerificationPolicy = publicKey
    ? { publicKey, ...(o.insecureIgnoreSct ? { ctlogThreshold: 0 } : {}) }
    : policy;
  if (o.insecureIgnoreTlog) full.tlogThreshold = 0;
  // As cosign: an exact value wins over its regular expression.
  if (full.identity?.subjectAlternativeName) delete full.identity.subjectAlternativeNameRegExp;
  if (full.identity?.issuer) delete full.identity.issuerRegExp;
  try {
    verifyBundle(bundle, artifact, full, trust);
    if (attestationType !== undefined) checkPredicateType(bundle, attestationType);
  } catch (err) {
    throw err instanceof VerificationError
      ? new CliError(`verification failed (${err.code}): ${err.message}`, 1, { cause: err })
      : err;
  }
}

function emptyTrust(): TrustMaterial {
  return { certificateAuthorities: [], timestampAuthorities: [], tlogs: new Map(), ctlogs: new Map() };
}

/** verify-blob-attestation --type: the statement's predicate type must be the one asked for. */
function checkPredicateType(bundle: unknown, type: string): void {
  const env = (bundle as { dsseEnvelope?: { payload?: string } }).dsseEnvelope;
  if (!env?.payload)
    throw new VerificationError('BUNDLE_INVALID', 'the bundle holds no attestation (DSSE envelope)');
  const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as {
    predicateType?: string;
  };
  if (statement.predicateType !== type)
    throw new VerificationError(
      'SUBJECT_MISMATCH',
      `the attestation's predicate type is ${statement.predicateType}, not ${type}`,
    );
}

function addBlobVerifyFlags(cmd: Command): Command {
  return addIdentityFlags(cmd)
    .option('--bundle <file>', "Sigstore bundle (.sigstore.json, or cosign's --bundle output)")
    .option('--key <key>', 'public key (a PEM file, a certificate, or env://VAR), for key-based signatures')
    .option('--trusted-root <file>', 'trusted_root.json to verify against (default: the stored one)')
    .option('--insecure-ignore-sct', 'do not require an embedded SCT in the certificate')
    .option('--insecure-ignore-tlog', 'do not require transparency log evidence (insecure)')
    .option('--rekor-url <url>', 'the log to look a detached signature up in (default: the signing config)')
    .option('--signing-config <file>', 'signing_config.json naming the log (default: the stored one)');
}

export function registerVerifyBlobCommand(program: Command): void {
  addBlobVerifyFlags(
    program
      .command('verify-blob')
      .description(
        'verify a signed file offline: a Sigstore bundle, or a detached signature with its certificate or key',
      )
      .argument(
        '<artifact>',
        'the signed file ("-" for standard input), or sha256:<hex> of it with --bundle',
      ),
  )
    .option('--signature <file>', 'detached signature (base64), as sign-blob --output-signature writes it')
    .option('--certificate <file>', 'signing certificate (PEM), as sign-blob --output-certificate writes it')
    .option(
      '--certificate-chain <file>',
      'CA certificates (PEM) of --certificate; each must be in the trusted root',
    )
    .action(async (artifact: string, opts: DetachedOptions) => {
      await verifyBlobCli(artifact, opts);
      process.stderr.write('Verified OK\n');
    });

  addBlobVerifyFlags(
    program
      .command('verify-blob-attestation')
      .description('verify an attestation bundle about a file (cosign verify-blob-attestation)')
      .argument('<artifact>', 'the file the attestation is about ("-" for standard input), or sha256:<hex>'),
  )
    .option('--type <type>', 'require this predicate type (cosign name or URI)')
    .option('--check-claims [bool]', 'check the file is a subject of the statement (always on)')
    .action(async (artifact: string, opts: DetachedOptions & { type?: string }) => {
      if (!opts.bundle) throw new CliError('verify-blob-attestation needs --bundle FILE');
      const { predicateTypeUri } = await import('../../sign/index.js');
      await verifyBlobCli(artifact, opts, opts.type ? predicateTypeUri(opts.type) : undefined);
      process.stderr.write('Verified OK\n');
    });
}
