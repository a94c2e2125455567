// `sigil download signature|attestation IMAGE` (cosign download): prints an image's signatures, one JSON object
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
}
