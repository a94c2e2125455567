// `sigil sign-blob FILE` (cosign sign-blob) and `sigil attest-blob FILE` (cosign attest-blob): a Sigstore bundle
// v0.3 for a file — a message signature over its SHA-256, or a DSSE in-toto statement naming it as the subject.
// verify-blob belongs to the verifier (src/verify); these only sign.
import { basename } from 'node:path';
import type { Command } from 'commander';
import { confirmUpload, info, readInput, writeOutput } from '../context.js';
import { addSigningFlags, reportEntry, type SigningFlags, signingContext } from '../signing.js';

interface SignBlobFlags extends SigningFlags {
  bundle?: string;
  outputSignature?: string;
  outputCertificate?: string;
  b64?: boolean;
}

interface AttestBlobFlags extends SignBlobFlags {
  predicate?: string;
  type?: string;
  statement?: string;
}

async function writeCommon(flags: SignBlobFlags, bundle: unknown, signatureB64: string, certPem?: string) {
  if (flags.bundle) {
    await writeOutput(flags.bundle, `${JSON.stringify(bundle)}\n`);
    info(`Wrote bundle to file ${flags.bundle}`);
  }
  if (flags.outputSignature) {
    await writeOutput(flags.outputSignature, signatureB64);
    info(`Signature wrote in the file ${flags.outputSignature}`);
  }
  if (flags.outputCertificate && certPem) {
    await writeOutput(flags.outputCertificate, certPem);
    info(`Certificate wrote in the file ${flags.outputCertificate}`);
  }
}

export function registerBlobCommands(program: Command): void {
  const signBlob = program
    .command('sign-blob')
    .description('sign a file and write a Sigstore bundle (keyless by default)')
    .argument('<file>', 'the file to sign ("-" for standard input)')
    .option('--bundle <file>', 'write the Sigstore bundle (v0.3 JSON) here')
    .option('--output-signature <file>', 'write the base64 signature here')
    .option('--output-certificate <file>', 'write the signing certificate (PEM) here');
  addSigningFlags(signBlob);
  signBlob.action(async (file: string, flags: SignBlobFlags) => {
    const { signBlob: sign } = await import('../../sign/index.js');
    const artifact = await readInput(file);
    await confirmUpload(flags.yes === true, flags.tlogUpload !== false);
    const ctx = await signingContext(flags);
    const signed = await sign(artifact, ctx);
    reportEntry(ctx, signed.entry);
    const b64 = signed.signature.toString('base64');
    await writeCommon(flags, signed.bundle, b64, ctx.identity.certificate?.chainPem[0]);
    // cosign prints the signature on stdout.
    process.stdout.write(`${b64}\n`);
  });

  const attestBlob = program
    .command('attest-blob')
    .description(
      'attest to a file with an in-toto statement in a DSSE envelope, written as a Sigstore bundle',
    )
    .argument('<file>', 'the file the statement is about')
    .option('--predicate <file>', 'the predicate (JSON, or text for spdx/custom)')
    .option(
      '--type <type>',
      'predicate type: slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx, vuln, link, openvex, custom, or a URI',
      'custom',
    )
    .option('--statement <file>', 'a complete in-toto statement to sign instead of --predicate')
    .option('--bundle <file>', 'write the Sigstore bundle (v0.3 JSON) here')
    .option('--output-signature <file>', 'write the DSSE envelope here')
    .option('--output-certificate <file>', 'write the signing certificate (PEM) here');
  addSigningFlags(attestBlob);
  attestBlob.action(async (file: string, flags: AttestBlobFlags) => {
    const { buildStatement, signDsse, sha256Digest } = await import('../../sign/index.js');
    const { IN_TOTO_PAYLOAD_TYPE } = await import('../../formats/index.js');
    const artifact = await readInput(file);
    let payload: Buffer;
    if (flags.statement) {
      payload = await readInput(flags.statement);
    } else {
      if (!flags.predicate) throw new Error('give --predicate FILE (or --statement FILE)');
      const statement = buildStatement({
        type: flags.type ?? 'custom',
        predicate: await readInput(flags.predicate),
        subjectName: basename(file),
        sha256: sha256Digest(artifact).slice('sha256:'.length),
      });
      payload = Buffer.from(JSON.stringify(statement), 'utf8');
    }
    await confirmUpload(flags.yes === true, flags.tlogUpload !== false);
    const ctx = await signingContext(flags);
    const signed = await signDsse(IN_TOTO_PAYLOAD_TYPE, payload, ctx);
    reportEntry(ctx, signed.entry);
    await writeCommon(
      flags,
      signed.bundle,
      JSON.stringify(signed.envelope),
      ctx.identity.certificate?.chainPem[0],
    );
    if (!flags.bundle) process.stdout.write(`${JSON.stringify(signed.bundle)}\n`);
  });
}

export interface SignBundleOptions {
  identityToken: string;
  bundle: string;
  signingConfig?: string;
  trustedRoot?: string;
  /** Sign FILE (an in-toto statement) as a DSSE envelope instead of a message signature. */
  inToto?: boolean;
}

/**
 * The conformance protocol's sign-bundle (sigstore/sigstore-conformance docs/cli_protocol.md): keyless, services
 * from --signing-config (or the stored trust config), the v0.3 bundle written to --bundle.
 */
export async function signBundleFile(file: string, o: SignBundleOptions): Promise<void> {
  const sign = await import('../../sign/index.js');
  const { IN_TOTO_PAYLOAD_TYPE } = await import('../../formats/index.js');
  const ctx = await signingContext({
    identityToken: o.identityToken,
    signingConfig: o.signingConfig,
    trustedRoot: o.trustedRoot,
    tlogUpload: true,
  });
  const artifact = await readInput(file);
  const signed = o.inToto
    ? await sign.signDsse(IN_TOTO_PAYLOAD_TYPE, artifact, ctx)
    : await sign.signBlob(artifact, ctx);
  await writeOutput(o.bundle, `${JSON.stringify(signed.bundle)}\n`);
}
