// `sigil copy SRC DST`, `sigil save IMAGE --dir DIR` and `sigil load --dir DIR IMAGE` (cosign copy / save / load):
// an image with its signatures, attestations and referrers, from one registry to another, into an OCI image
// layout directory (to carry across an air gap) and back. The moving itself is src/oci/transfer.ts.
import type { Command } from 'commander';
import { info, type RegistryFlags, registryClient } from '../context.js';
import { CliError } from '../errors.js';
import { addRegistryFlags } from './sign.js';

function summary(r: {
  manifests: number;
  blobs: number;
  signatureTags: string[];
  referrers: number;
}): string {
  return `${r.manifests} manifest(s), ${r.blobs} blob(s), ${r.signatureTags.length} signature tag(s), ${r.referrers} referrer(s)`;
}

export function registerTransferCommands(program: Command): void {
  addRegistryFlags(
    program
      .command('copy')
      .description('copy an image and its signatures, attestations and referrers to another repository')
      .argument('<source>', 'the image to copy (a tag or @digest)')
      .argument('<destination>', 'where to: a repository, with a tag to set one (default: the source tag)'),
  ).action(async (source: string, destination: string, flags: RegistryFlags) => {
    const oci = await import('../../oci/index.js');
    const client = await registryClient(flags);
    const src = await oci.resolveImage(client, source);
    const dst = oci.parseReference(destination);
    if (dst.digest) throw new CliError('the destination takes a repository and maybe a tag, not a digest');
    const report = await oci.transferImage(
      oci.registryStore(client, src.ref),
      oci.registryStore(client, dst),
      src.descriptor.digest,
      dst.tag ?? src.ref.tag,
    );
    info(`Copied ${summary(report)}`);
    process.stdout.write(`${dst.registry}/${dst.repository}@${src.descriptor.digest}\n`);
  });

  addRegistryFlags(
    program
      .command('save')
      .description('save an image and its signatures to an OCI image layout directory')
      .argument('<image>', 'the image to save')
      .requiredOption('--dir <dir>', 'the OCI layout directory (created if missing)'),
  ).action(async (image: string, flags: RegistryFlags & { dir: string }) => {
    const oci = await import('../../oci/index.js');
    const client = await registryClient(flags);
    const src = await oci.resolveImage(client, image);
    const report = await oci.transferImage(
      oci.registryStore(client, src.ref),
      await oci.layoutStore(flags.dir, true),
      src.descriptor.digest,
      src.ref.tag ?? 'latest',
    );
    info(`Saved ${summary(report)} to ${flags.dir}`);
  });

  addRegistryFlags(
    program
      .command('load')
      .description('push an image saved with `sigil save` (and its signatures) to a registry')
      .requiredOption('--dir <dir>', 'the OCI layout directory')
      .argument('<image>', 'the repository to push to, with a tag to set one'),
  ).action(async (image: string, flags: RegistryFlags & { dir: string }) => {
    const oci = await import('../../oci/index.js');
    const client = await registryClient(flags);
    const dst = oci.parseReference(image);
    const layout = await oci.layoutStore(flags.dir, false);
    // The image is the tagged entry that is not a cosign signature tag.
    const images = (await layout.entries()).filter((e) => {
      const name = e.annotations?.['org.opencontainers.image.ref.name'];
      return name !== undefined && !/^sha256-[0-9a-f]{64}\.(sig|att|sbom)$/.test(name);
    });
    if (images.length !== 1)
      throw new CliError(
        `${flags.dir} holds ${images.length} tagged images; sigil load takes a layout with one`,
      );
    const entry = images[0];
    const report = await oci.transferImage(
      layout,
      oci.registryStore(client, dst),
      entry.digest,
      dst.tag ?? entry.annotations?.['org.opencontainers.image.ref.name'],
    );
    info(`Loaded ${summary(report)}`);
    process.stdout.write(`${dst.registry}/${dst.repository}@${entry.digest}\n`);
  });
}
