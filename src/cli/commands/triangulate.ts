// `sigil triangulate IMAGE` (cosign triangulate): prints where cosign's layout keeps an image's signatures,
// attestations or SBOM (`repo:sha256-<hex>.sig|.att|.sbom`), or the image's digest reference with --type digest.
import type { Command } from 'commander';
import { type RegistryFlags, registryClient } from '../context.js';
import { addRegistryFlags } from './sign.js';

const SUFFIX: Record<string, string> = { signature: 'sig', attestation: 'att', sbom: 'sbom' };

export function registerTriangulateCommands(program: Command): void {
  const cmd = program
    .command('triangulate')
    .description('print the location of the signatures (or attestations, SBOM) of an image')
    .argument('<image>', 'the image')
    .option('--type <type>', 'signature, attestation, sbom or digest', 'signature');
  addRegistryFlags(cmd).action(async (image: string, flags: RegistryFlags & { type: string }) => {
    if (flags.type !== 'digest' && !SUFFIX[flags.type]) {
      throw new Error(`--type must be signature, attestation, sbom or digest, not "${flags.type}"`);
    }
    const { repositoryName, resolveImage } = await import('../../oci/index.js');
    const target = await resolveImage(await registryClient(flags), image, process.env.COSIGN_REPOSITORY);
    const line =
      flags.type === 'digest'
        ? `${repositoryName(target.ref)}@${target.descriptor.digest}`
        : `${repositoryName(target.signatureRepo)}:${target.descriptor.digest.replace(':', '-')}.${SUFFIX[flags.type]}`;
    process.stdout.write(`${line}\n`);
  });
}
