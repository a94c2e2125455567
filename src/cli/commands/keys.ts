// `sigil generate-key-pair` (cosign generate-key-pair): writes cosign.key (cosign's encrypted format, password
// from COSIGN_PASSWORD or the terminal) and cosign.pub; `sigil import-key-pair --key k.pem` (cosign
// import-key-pair) does the same for an existing PEM key; `sigil public-key --key cosign.key` prints the public key.
import type { Command } from 'commander';
import { info, password, privateKeyRef, readKeyRef, writeOutput } from '../context.js';

export function registerKeyCommands(program: Command): void {
  program
    .command('generate-key-pair')
    .description('generate a P-256 key pair for key-based signing: cosign.key (encrypted) and cosign.pub')
    .option('--output-key-prefix <prefix>', 'file name prefix of the key pair', 'cosign')
    .action(async (flags: { outputKeyPrefix: string }) => {
      const { generateKeyPair, refuseExisting } = await import('../../sign/index.js');
      // Before the password prompt: nothing to ask for when the pair cannot be written.
      await refuseExisting(`${flags.outputKeyPrefix}.key`);
      const pass = await password(true);
      const pair = await generateKeyPair(flags.outputKeyPrefix, pass);
      info(`Private key written to ${pair.privateKeyPath}`);
      info(`Public key written to ${pair.publicKeyPath}`);
    });

  program
    .command('import-key-pair')
    .description(
      "import a PEM private key (EC, RSA or Ed25519) into cosign's encrypted format: <prefix>.key and <prefix>.pub",
    )
    .requiredOption(
      '-k, --key <path>',
      'the PEM private key to import (PKCS#8, SEC 1 or PKCS#1; env://VAR too)',
    )
    .option('-o, --output-key-prefix <prefix>', 'file name prefix of the imported pair', 'import-cosign')
    .action(async (flags: { key: string; outputKeyPrefix: string }) => {
      const { createPublicKey, createPrivateKey } = await import('node:crypto');
      const { encryptPrivateKey, refuseExisting } = await import('../../sign/index.js');
      const { writeFileAtomic } = await import('../../crypto/index.js');
      const { CliError } = await import('../errors.js');
      const pem = await readKeyRef(flags.key);
      let key: ReturnType<typeof createPrivateKey>;
      try {
        key = createPrivateKey(pem);
      } catch {
        throw new CliError(
          `${flags.key} is not an unencrypted PEM private key (PKCS#8, SEC 1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY")`,
        );
      }
      const keyPath = `${flags.outputKeyPrefix}.key`;
      const pubPath = `${flags.outputKeyPrefix}.pub`;
      await refuseExisting(keyPath);
      const pass = await password(true);
      await writeFileAtomic(keyPath, encryptPrivateKey(key, pass), { mode: 0o600, exclusive: true }).catch(
        (err: NodeJS.ErrnoException) => {
          err.path ??= keyPath;
          throw err;
        },
      );
      await writeOutput(pubPath, createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString());
      info(`Private key written to ${keyPath}`);
      info(`Public key written to ${pubPath}`);
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
