// `sigil generate-key-pair` (cosign generate-key-pair): writes cosign.key (cosign's encrypted format, password
// from COSIGN_PASSWORD or the terminal) and cosign.pub; `sigil public-key --key cosign.key` prints the public key.
import type { Command } from 'commander';
import { info, password, privateKeyRef, writeOutput } from '../context.js';

export function registerKeyCommands(program: Command): void {
  program
    .command('generate-key-pair')
    .description('generate a P-256 key pair for key-based signing: cosign.key (encrypted) and cosign.pub')
    .option('--output-key-prefix <prefix>', 'file name prefix of the key pair', 'cosign')
    .action(async (flags: { outputKeyPrefix: string }) => {
      const { generateKeyPair } = await import('../../sign/index.js');
      const pass = await password(true);
      const pair = await generateKeyPair(flags.outputKeyPrefix, pass);
      info(`Private key written to ${pair.privateKeyPath}`);
      info(`Public key written to ${pair.publicKeyPath}`);
    });

  program
    .command('public-key')
    .description('print the public key of a private key file')
    .requiredOption('--key <path>', 'the private key file')
    .option('--outfile <file>', 'write the public key here instead of standard output')
    .action(async (flags: { key: string; outfile?: string }) => {
      const { createPublicKey } = await import('node:crypto');
      const key = await privateKeyRef(flags.key);
      const pem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
      if (flags.outfile) await writeOutput(flags.outfile, pem);
      else process.stdout.write(pem);
    });
}
