// `sigil sign IMAGE…` (cosign sign): keyless by default, or --key. Resolves tags to digests (with cosign's
// warning), signs the simple-signing payload, logs it, and attaches the signature both as cosign's `.sig` tag
// layer and as an OCI 1.1 referrer holding a Sigstore bundle v0.3; or, with --new-bundle-format (the default
// against a Rekor v2 log), as cosign v3 does: a sign/v1 in-toto statement in a referrer bundle.
import type { Command } from 'commander';
import type { Descriptor, ImageTarget, RegistryClient } from '../../oci/index.js';
import {
  collect,
  confirmUpload,
  info,
  parseAnnotations,
  parseBool,
  type RegistryFlags,
  registryClient,
  writeOutput,
} from '../context.js';
import { addSigningFlags, reportEntry, type SigningFlags, signingContext } from '../signing.js';

interface SignFlags extends SigningFlags, RegistryFlags {
  annotations?: string[];
  upload?: boolean;
  bundle?: string;
  outputSignature?: string;
  outputCertificate?: string;
  outputPayload?: string;
  registryReferrersMode?: string;
  newBundleFormat?: boolean;
  recursive?: boolean;
}

export function addRegistryFlags(cmd: Command): Command {
  return cmd
    .option('--allow-insecure-registry', 'use plain HTTP (or skip TLS checks) for the registry')
    .option('--allow-http-registry', 'use plain HTTP for the registry')
    .option('--registry-username <name>', 'registry user (default: docker config / REGISTRY_AUTH_FILE)')
    .option('--registry-password <password>', 'registry password');
}

/**
 * cosign sign --recursive: an index is signed, and so is each manifest it lists (one level, as cosign walks it),
 * each with its own signature next to it in the same repository.
 */
async function withChildren(client: RegistryClient, targets: ImageTarget[]): Promise<ImageTarget[]> {
  const { isIndexMediaType } = await import('../../oci/index.js');
  const out: ImageTarget[] = [];
  for (const t of targets) {
    out.push(t);
    if (!isIndexMediaType(t.descriptor.mediaType)) continue;
    const index = await client.getManifest(t.ref);
    for (const child of (index.json as { manifests?: Descriptor[] }).manifests ?? []) {
      if (out.some((o) => o.descriptor.digest === child.digest)) continue;
      out.push({ ...t, ref: { ...t.ref, tag: undefined, digest: child.digest }, descriptor: child });
    }
  }
  return out;
}

export function registerSignCommands(program: Command): void {
  const cmd = program
    .command('sign')
    .description('sign container images (keyless by default) and push the signatures to the registry')
    .argument(
      '<image...>',
      'images to sign, e.g. registry:5000/app@sha256:… (a tag is resolved to its digest)',
    )
    .option('-a, --annotations <key=value>', 'extra key=value pairs to sign (repeatable)', collect, [])
    .option('--upload [bool]', 'push the signature to the registry', parseBool, true)
    .option('--bundle <file>', 'also write the Sigstore bundle (v0.3) to this file')
    .option('--output-signature <file>', 'write the base64 signature to this file')
    .option('--output-certificate <file>', 'write the signing certificate (PEM) to this file')
    .option('--output-payload <file>', 'write the signed payload to this file')
    .option(
      '--registry-referrers-mode <mode>',
      'where to attach: "both" (the .sig tag and an OCI referrer), "legacy" (.sig only) or "oci-1-1" (referrer only)',
      'both',
    )
    .option('-r, --recursive', 'for an index (multi-platform image): sign the index and every image it lists')
    .option(
      '--new-bundle-format [bool]',
      "cosign v3's form: an in-toto statement in a Sigstore bundle, as an OCI referrer only (default: with a Rekor v2 log)",
      parseBool,
    );
  addSigningFlags(cmd);
  addRegistryFlags(cmd);
  cmd.action(async (images: string[], flags: SignFlags) => {
    const mode = flags.registryReferrersMode ?? 'both';
    if (!['both', 'legacy', 'oci-1-1'].includes(mode))
      throw new Error(`--registry-referrers-mode must be both, legacy or oci-1-1`);
    const { signImage } = await import('../../sign/index.js');
    const { resolveImage } = await import('../../oci/index.js');
    const client = await registryClient(flags);
    const resolved = await Promise.all(
      images.map((image) => resolveImage(client, image, process.env.COSIGN_REPOSITORY)),
    );
    const targets = flags.recursive ? await withChildren(client, resolved) : resolved;
    await confirmUpload(flags.yes === true, flags.tlogUpload !== false);
    const ctx = await signingContext(flags);
    for (const target of targets) {
      const signed = await signImage(target, {
        ...ctx,
        client,
        annotations: parseAnnotations(flags.annotations),
        upload: flags.upload !== false,
        layouts: { cosignTag: mode !== 'oci-1-1', referrer: mode !== 'legacy' },
        newBundleFormat: flags.newBundleFormat ?? ctx.rekorApiVersion === 2,
      });
      reportEntry(ctx, signed.entry);
      if (signed.cosignTag || signed.referrer) {
        info(`Pushing signature to: ${target.signatureRepo.registry}/${target.signatureRepo.repository}`);
      }
      if (flags.bundle) await writeOutput(flags.bundle, `${JSON.stringify(signed.bundle)}\n`);
      if (flags.outputSignature)
        await writeOutput(flags.outputSignature, signed.signature.toString('base64'));
      if (flags.outputPayload) await writeOutput(flags.outputPayload, signed.payload);
      if (flags.outputCertificate && ctx.identity.certificate) {
        await writeOutput(flags.outputCertificate, ctx.identity.certificate.chainPem[0]);
      }
    }
  });
}
