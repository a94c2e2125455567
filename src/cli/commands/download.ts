// `sigil download signature|attestation|sbom IMAGE` (cosign download): prints an image's signatures, one JSON object
// per line — the Sigstore bundles attached as OCI referrers when there are any (as cosign does), otherwise the
// `.sig` layers as cosign's SignedPayload {Base64Signature, Payload, Cert, Chain, Bundle, RFC3161Timestamp}. Cert
// and Chain are PEM text here (cosign marshals Go's x509.Certificate struct, which no other tool reads).
import type { Command } from 'commander';
import { type RegistryFlags, registryClient } from '../context.js';
import { addRegistryFlags } from './sign.js';

async function download(image: string, flags: RegistryFlags, kind: 'sig' | 'att'): Promise<void> {
  const oci = await import('../../oci/index.js');
  const client = await registryClient(flags);
  const target = await oci.resolveImage(client, image, process.env.COSIGN_REPOSITORY);
  const repo = target.signatureRepo;
  const wanted = kind === 'sig' ? 'message-signature' : 'dsse-envelope';
  const referrers = await client.referrers(
    { ...repo, digest: target.descriptor.digest },
    'application/vnd.dev.sigstore.bundle.v0.3+json',
  );
  const lines: string[] = [];
  for (const d of referrers.manifests) {
    const content = d.annotations?.['dev.sigstore.bundle.content'];
    if (content && content !== wanted) continue;
    const m = await client.getManifest({ ...repo, digest: d.digest });
    const layer = (m.json as { layers?: { digest: string }[] }).layers?.[0];
    if (layer) lines.push((await client.getBlobBytes(repo, layer.digest)).toString('utf8').trim());
  }
  if (lines.length === 0) {
    const found = await oci.readCosignLayers(client, repo, target.descriptor.digest, kind);
    for (const l of found?.layers ?? []) {
      if (kind === 'att') {
        lines.push(l.payload.toString('utf8').trim());
        continue;
      }
      const chain = l.chain?.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? [];
      lines.push(
        JSON.stringify({
          Base64Signature: l.signature,
          Payload: l.payload.toString('base64'),
          Cert: l.certificate ?? null,
          Chain: chain.length ? chain : null,
          Bundle: l.bundle ?? null,
          RFC3161Timestamp: l.rfc3161Timestamp ? JSON.parse(l.rfc3161Timestamp) : null,
        }),
      );
    }
  }
  if (lines.length === 0) {
    throw new Error(
      `no ${kind === 'sig' ? 'signatures' : 'attestations'} found for ${oci.repositoryName(target.ref)}@${target.descriptor.digest}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * cosign download sbom: the layers of the image's `sha256-<hex>.sbom` tag (what `cosign attach sbom` pushed),
 * printed as they are. cosign v3 marks the verb deprecated in favour of attestations; scripts still call it.
 */
async function downloadSbom(image: string, flags: RegistryFlags & { outputFile?: string }): Promise<void> {
  const oci = await import('../../oci/index.js');
  const { cosignTag } = await import('../../formats/index.js');
  const { writeOutput } = await import('../context.js');
  const client = await registryClient(flags);
  const target = await oci.resolveImage(client, image, process.env.COSIGN_REPOSITORY);
  const repo = target.signatureRepo;
  const tag = cosignTag(target.descriptor.digest, 'sbom');
  const manifest = await client.getManifest({ ...repo, tag }).catch((err: { code?: string }) => {
    if (err.code === 'NOT_FOUND')
      throw new Error(
        `no SBOMs found attached to ${oci.repositoryName(target.ref)}@${target.descriptor.digest}`,
      );
    throw err;
  });
  const layers = (manifest.json as { layers?: { digest: string; mediaType?: string }[] }).layers ?? [];
  const parts: Buffer[] = [];
  for (const l of layers) parts.push(await client.getBlobBytes(repo, l.digest, 256 * 1024 * 1024));
  const out = Buffer.concat(parts);
  process.stderr.write(
    `Found ${layers.length} SBOM${layers.length === 1 ? '' : 's'} of type: ${layers[0]?.mediaType ?? 'unknown'}\n`,
  );
  if (flags.outputFile) await writeOutput(flags.outputFile, out);
  else process.stdout.write(out);
}

export function registerDownloadCommands(program: Command): void {
  const dl = program.command('download').description("download an image's signatures or attestations");
  addRegistryFlags(
    dl
      .command('signature')
      .description('print the signatures of an image, one JSON per line')
      .argument('<image>'),
  ).action((image: string, flags: RegistryFlags) => download(image, flags, 'sig'));
  addRegistryFlags(
    dl
      .command('attestation')
      .description('print the attestations of an image, one JSON per line')
      .argument('<image>'),
  ).action((image: string, flags: RegistryFlags) => download(image, flags, 'att'));
  addRegistryFlags(
    dl
      .command('sbom')
      .description("print the SBOM attached to an image (cosign's .sbom tag)")
      .argument('<image>')
      .option('--output-file <file>', 'write the SBOM here instead of standard output'),
  ).action((image: string, flags: RegistryFlags & { outputFile?: string }) => downloadSbom(image, flags));
}
