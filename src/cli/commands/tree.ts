// `sigil tree IMAGE` (cosign tree): what supply-chain artifacts sit next to an image — the `.sig`, `.att` and
// `.sbom` tags of cosign's layout with their layers, and every OCI referrer (by artifact type, or by the bundle's
// predicate type annotation), in cosign's layout of lines.
import type { Command } from 'commander';
import { type RegistryFlags, registryClient } from '../context.js';
import { addRegistryFlags } from './sign.js';

const TAG_KINDS: [kind: 'sig' | 'att' | 'sbom', title: string][] = [
  ['att', '💾 Attestations for an image tag'],
  ['sig', '🔐 Signatures for an image tag'],
  ['sbom', '📦 SBOMs for an image tag'],
];

function layerLines(digests: string[]): string {
  return digests.map((d, i) => `${i === digests.length - 1 ? '   └──' : '   ├──'} 🍒 ${d}\n`).join('');
}

export function registerTreeCommands(program: Command): void {
  const cmd = program
    .command('tree')
    .description("display the supply chain artifacts attached to an image (cosign's tags and OCI referrers)")
    .argument('<image>', 'the image');
  addRegistryFlags(cmd).action(async (image: string, flags: RegistryFlags) => {
    const oci = await import('../../oci/index.js');
    const client = await registryClient(flags);
    const target = await oci.resolveImage(client, image, process.env.COSIGN_REPOSITORY);
    const repo = target.signatureRepo;
    let out = `📦 Supply Chain Security Related artifacts for an image: ${oci.formatReference(target.ref)}\n`;
    let found = false;
    for (const [kind, title] of TAG_KINDS) {
      const tag = `${target.descriptor.digest.replace(':', '-')}.${kind}`;
      try {
        const m = await client.getManifest({ ...repo, tag });
        const layers = (m.json as { layers?: { digest: string }[] }).layers ?? [];
        if (layers.length === 0) continue;
        found = true;
        out += `└── ${title}: ${oci.repositoryName(repo)}:${tag}\n${layerLines(layers.map((l) => l.digest))}`;
      } catch (err) {
        if (!(err instanceof oci.OciError && err.code === 'NOT_FOUND')) throw err;
      }
    }
    const referrers = await client.referrers({ ...repo, digest: target.descriptor.digest });
    for (const d of referrers.manifests) {
      if (!d.artifactType) continue;
      found = true;
      const m = await client.getManifest({ ...repo, digest: d.digest });
      const manifest = m.json as { layers?: { digest: string }[]; annotations?: Record<string, string> };
      const type = manifest.annotations?.['dev.sigstore.bundle.predicateType'] ?? d.artifactType;
      out += `└── 🔗 ${type} artifacts via OCI referrer: ${oci.repositoryName(repo)}@${d.digest}\n`;
      out += layerLines((manifest.layers ?? []).map((l) => l.digest));
    }
    if (!found) {
      out += `No Supply Chain Security Related Artifacts found for image ${oci.formatReference(target.ref)},\n start creating one with simply running$ sigil sign <img>\n`;
    }
    process.stdout.write(out);
  });
}
