// `sigil verify IMAGE…` and `sigil verify-attestation IMAGE…` (cosign verify / verify-attestation): find the
// image's signatures in both registry layouts and verify them offline against trusted_root.json — chain, SCT,
// identity policy (cosign 2's required --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp],
// GitHub claim flags), signature, payload digest, log evidence — or against --key. Output as cosign prints it.
import type { Command } from 'commander';
import type { TrustMaterial, VerificationPolicy, VerifiedSignature } from '../../verify/index.js';
import {
  collect,
  info,
  loadTrust,
  parseAnnotations,
  parseBool,
  publicKeyRef,
  type RegistryFlags,
  registryClient,
  warn,
} from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { addIdentityFlags, type IdentityFlags, identityPolicyFromFlags } from '../identity-flags.js';
import { checksHeader, cosignPayloadJson, uniqueSignatures } from '../output.js';
import { addRegistryFlags } from './sign.js';

interface VerifyFlags extends RegistryFlags, IdentityFlags {
  key?: string;
  insecureIgnoreTlog?: boolean;
  insecureIgnoreSct?: boolean;
  trustedRoot?: string;
  output?: string;
  type?: string;
  annotations?: string[];
  checkClaims?: boolean;
  offline?: boolean;
  rekorUrl?: string;
}

/** cosign's warning for --insecure-ignore-tlog (cmd/cosign/cli/verify). */
export const IGNORE_TLOG_WARNING =
  'Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.';

/** Key-based verification with --insecure-ignore-tlog reads no trusted root. */
const EMPTY_TRUST: TrustMaterial = {
  certificateAuthorities: [],
  timestampAuthorities: [],
  tlogs: new Map(),
  ctlogs: new Map(),
};

/** The annotations a verified signature carries: simple signing's `optional`, or the statement subject's. */
function signedAnnotations(v: VerifiedSignature): Record<string, unknown> {
  try {
    const doc = JSON.parse(v.candidate.payload.toString('utf8')) as {
      optional?: Record<string, unknown> | null;
      subject?: { annotations?: Record<string, unknown> }[];
    };
    return doc.optional ?? doc.subject?.[0]?.annotations ?? {};
  } catch {
    return {};
  }
}

function addVerifyFlags(cmd: Command): Command {
  addIdentityFlags(
    cmd.option(
      '--key <path>',
      'verify with this public key (e.g. cosign.pub) instead of a certificate identity',
    ),
  )
    .option('--insecure-ignore-tlog', 'key-based only: accept signatures without transparency log evidence')
    .option('--insecure-ignore-sct', 'do not require an embedded SCT in the certificate')
    .option('--trusted-root <file>', 'trusted_root.json to verify against (default: the stored one)')
    .option('-o, --output <format>', "json (cosign's default) or text", 'json')
    .option(
      '-a, --annotations <key=value>',
      'require this annotation in the signed payload (repeatable)',
      collect,
      [],
    )
    .option(
      '--check-claims [bool]',
      'check the payload names the image digest (always on: sigil does not skip it)',
      parseBool,
      true,
    )
    .option('--offline [bool]', 'verify without network access to the log (sigil always does)', parseBool)
    .option(
      '--rekor-url <url>',
      'accepted for cosign scripts; the log evidence is in the signature and checked offline',
    );
  return addRegistryFlags(cmd);
}

/** Flags → verification policy, with cosign's messages for what keyless verification requires. */
export async function policyFromFlags(flags: VerifyFlags): Promise<VerificationPolicy> {
  const thresholds = {
    ctlogThreshold: flags.insecureIgnoreSct ? 0 : 1,
    tlogThreshold: flags.insecureIgnoreTlog ? 0 : 1,
  };
  if (flags.key) return { publicKey: await publicKeyRef(flags.key), ...thresholds };
  if (!flags.certificateIdentity && !flags.certificateIdentityRegexp) {
    throw new Error(
      '--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode',
    );
  }
  if (!flags.certificateOidcIssuer && !flags.certificateOidcIssuerRegexp) {
    throw new Error(
      '--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode',
    );
  }
  const identity = identityPolicyFromFlags(flags);
  // As cosign: an exact value wins over its regular expression.
  if (flags.certificateIdentity) identity.subjectAlternativeNameRegExp = undefined;
  if (flags.certificateOidcIssuer) identity.issuerRegExp = undefined;
  return { identity, ...thresholds };
}

async function run(images: string[], flags: VerifyFlags, kind: 'sig' | 'att'): Promise<void> {
  const output = flags.output ?? 'json';
  if (output !== 'json' && output !== 'text')
    throw new CliError(`unsupported output format "${output}" (-o json or -o text)`);
  const wanted = parseAnnotations(flags.annotations);
  if (flags.checkClaims === false)
    warn('--check-claims=false is not supported: sigil always checks that the payload names the image');
  if (flags.insecureIgnoreTlog) warn(IGNORE_TLOG_WARNING);
  const { predicateTypeUri } = await import('../../sign/index.js');
  const { parseReference, resolveImage, signatureRepoOf } = await import('../../oci/index.js');
  const { verifyImage } = await import('../../verify/index.js');
  // The trusted root is read and parsed while the registry answers: it is needed only once signatures are in.
  const trust: Promise<TrustMaterial> =
    flags.key && flags.insecureIgnoreTlog ? Promise.resolve(EMPTY_TRUST) : loadTrust(flags);
  trust.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  const [policy, client] = await Promise.all([policyFromFlags(flags), registryClient(flags)]);
  for (const image of images) {
    const ref = parseReference(image);
    const signatureRepository = process.env.COSIGN_REPOSITORY;
    // By digest, the signatures are looked up at once and the manifest's existence is checked alongside (HEAD):
    // one round trip less than resolving first. A tag must be resolved to its digest before anything else.
    const target = ref.digest
      ? { ref, descriptor: { digest: ref.digest }, signatureRepo: signatureRepoOf(ref, signatureRepository) }
      : await resolveImage(client, image, signatureRepository).catch((err) => {
          // cosign's exit code 11: the tag does not exist.
          if ((err as { code?: string }).code === 'NOT_FOUND')
            throw new CliError(`${(err as Error).message}`, EXIT.NON_EXISTENT_TAG, { cause: err });
          throw err;
        });
    const [found, exists] = await Promise.allSettled([
      verifyImage(target, {
        client,
        trust,
        policy,
        kind,
        predicateType: flags.type ? predicateTypeUri(flags.type) : undefined,
        insecureIgnoreTlog: flags.insecureIgnoreTlog,
      }),
      ref.digest ? client.resolve(ref) : undefined,
    ]);
    // What went wrong first in the user's terms: no trusted root, then no such image, then the signatures.
    if (found.status === 'rejected') await trust;
    if (exists.status === 'rejected') throw exists.reason;
    if (found.status === 'rejected') {
      const err = found.reason;
      // cosign's exit code 10 when there are no signatures at all. Signatures that do not verify end with 1, as
      // cosign v3 ends (test/peers/cli-parity.test.ts), though its docs list 12 for them.
      if ((err as Error).name !== 'ImageVerificationError') throw err;
      const none = (err as { code?: string }).code === 'NO_SIGNATURES';
      throw new CliError((err as Error).message, none ? EXIT.IMAGE_WITHOUT_SIGNATURE : 1, { cause: err });
    }
    const result = found.value;
    let unique = uniqueSignatures(result.verified);
    if (Object.keys(wanted).length) {
      // cosign: every -a key=value must be among the signed annotations, as a string.
      unique = unique.filter((v) => {
        const have = signedAnnotations(v);
        return Object.entries(wanted).every(([k, want]) => have[k] === want);
      });
      if (unique.length === 0)
        throw new CliError(
          `no matching signatures: missing or incorrect annotation (wanted ${Object.entries(wanted)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')})`,
          1,
        );
    }
    const tlog = unique.every(
      (v) => v.result.checks.includes('tlog-set') || v.result.checks.includes('tlog-inclusion-proof'),
    );
    process.stderr.write(
      checksHeader(image, policy.publicKey !== undefined, tlog, Object.keys(wanted).length > 0),
    );
    if (kind === 'att') {
      for (const v of unique) {
        const c = v.candidate.bundle.content;
        if (c.kind !== 'dsseEnvelope') continue;
        const envelope = {
          payloadType: c.envelope.payloadType,
          payload: c.envelope.payload.toString('base64'),
          signatures: c.envelope.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig.toString('base64') })),
        };
        process.stdout.write(`${JSON.stringify(envelope)}\n`);
      }
    } else if (output === 'text') {
      for (const v of unique) {
        const id = v.result.signer.identity;
        if (id) {
          info(`Certificate subject: ${id.subjectAlternativeNames[0] ?? ''}`);
          if (id.issuer) info(`Certificate issuer URL: ${id.issuer}`);
        }
        process.stdout.write(`${v.candidate.payload.toString('utf8')}\n`);
      }
    } else {
      process.stdout.write(`${JSON.stringify(unique.map(cosignPayloadJson))}\n`);
    }
  }
}

export function registerVerifyCommands(program: Command): void {
  const verify = program
    .command('verify')
    .description('verify the signatures of container images, offline against the trusted root')
    .argument('<image...>', 'images to verify');
  addVerifyFlags(verify).action((images: string[], flags: VerifyFlags) => run(images, flags, 'sig'));

  const attestation = program
    .command('verify-attestation')
    .description('verify the in-toto attestations of container images')
    .argument('<image...>', 'images whose attestations to verify')
    .option('--type <type>', 'only attestations of this predicate type (cosign name or URI)');
  addVerifyFlags(attestation).action((images: string[], flags: VerifyFlags) => run(images, flags, 'att'));
}
