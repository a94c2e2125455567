// `sigil attest IMAGE --predicate FILE --type T` (cosign attest): an in-toto statement about the image digest
// in a DSSE envelope, logged, attached as cosign's `.att` layer and as an OCI referrer bundle.
import type { Command } from 'commander';
import {
  confirmUpload,
  info,
  parseBool,
  type RegistryFlags,
  readInput,
  registryClient,
  writeOutput,
} from '../context.js';
import { addSigningFlags, reportEntry, type SigningFlags, signingContext } from '../signing.js';
import { addRegistryFlags } from './sign.js';

interface AttestFlags extends SigningFlags, RegistryFlags {
  predicate?: string;
  type?: string;
  upload?: boolean;
  bundle?: string;
  registryReferrersMode?: string;
}

export function registerAttestCommands(program: Command): void {
  const cmd = program
    .command('attest')
    .description('attest to container images with an in-toto statement (DSSE), pushed next to the image')
    .argument('<image...>', 'images to attest to')
    .requiredOption('--predicate <file>', 'the predicate (JSON, or text for spdx/custom)')
    .option(
      '--type <type>',
      'predicate type: slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx, vuln, link, openvex, custom, or a URI',
      'custom',
    )
    .option('--upload [bool]', 'push the attestation to the registry', parseBool, true)
    .option('--bundle <file>', 'also write the Sigstore bundle (v0.3) to this file')
    .option(
      '--registry-referrers-mode <mode>',
      'both, legacy (.att only) or oci-1-1 (referrer only)',
      'both',
    );
  addSigningFlags(cmd);
  addRegistryFlags(cmd);
  cmd.action(async (images: string[], flags: AttestFlags) => {
    const mode = flags.registryReferrersMode ?? 'both';
    if (!['both', 'legacy', 'oci-1-1'].includes(mode))
      throw new Error('--registry-referrers-mode must be both, legacy or oci-1-1');
    const { attestImage, predicateTypeUri } = await import('../../sign/index.js');
    const { resolveImage } = await import('../../oci/index.js');
    predicateTypeUri(flags.type ?? 'custom');
    const predicate = await readInput(flags.predicate!);
    const client = await registryClient(flags);
    const targets = await Promise.all(
      images.map((i) => resolveImage(client, i, process.env.COSIGN_REPOSITORY)),
    );
    await confirmUpload(flags.yes === true, flags.tlogUpload !== false);
    const ctx = await signingContext(flags);
    for (const target of targets) {
      const att = await attestImage(target, {
        ...ctx,
        client,
        predicateType: flags.type ?? 'custom',
        predicate,
        upload: flags.upload !== false,
        layouts: { cosignTag: mode !== 'oci-1-1', referrer: mode !== 'legacy' },
      });
      reportEntry(ctx, att.entry);
      if (att.cosignTag || att.referrer)
        info(`Pushing attestation to: ${target.signatureRepo.registry}/${target.signatureRepo.repository}`);
      if (flags.bundle) await writeOutput(flags.bundle, `${JSON.stringify(att.bundle)}\n`);
    }
  });
}
