// `sigil log get | verify | search | info`: rekor-cli's verbs (get, verify, search, loginfo) with its flags and
// output shapes (sigstore/rekor cmd/rekor-cli/app), against the transparency log named by --rekor-server /
// --rekor-url or the signing config. Everything the log answers is checked against the trusted root's log key:
// SETs, inclusion proofs, signed checkpoints, and consistency with the last checkpoint this client saw.
import type { Command } from 'commander';
import type { RekorClient, RekorEntry } from '../../sign/index.js';
import type { VerifiedCheckpoint } from '../../verify/index.js';
import { info, loadTrust, readInput, resolveServices, warn } from '../context.js';
import { CliError } from '../errors.js';

interface LogFlags {
  rekorServer?: string;
  /** rekor-cli's own spelling, --rekor_server. */
  rekor_server?: string;
  rekorUrl?: string;
  trustedRoot?: string;
  signingConfig?: string;
  format?: string;
}

function addLogFlags(cmd: Command): Command {
  return cmd
    .option(
      '--rekor-server <url>',
      'transparency log address (env REKOR_REKOR_SERVER; default: from the signing config)',
    )
    .option('--rekor_server <url>', "rekor-cli's spelling of --rekor-server")
    .option('--rekor-url <url>', 'alias of --rekor-server')
    .option('--trusted-root <file>', 'trusted_root.json holding the log key (default: the stored one)')
    .option('--signing-config <file>', 'signing_config.json (default: the stored one)')
    .option('--format <format>', 'output format: default or json', 'default');
}

async function rekorFor(flags: LogFlags): Promise<RekorClient> {
  const { RekorClient } = await import('../../sign/index.js');
  // rekor-cli reads every flag from REKOR_<FLAG> too (viper), so REKOR_REKOR_SERVER is its --rekor_server.
  const explicit =
    flags.rekorServer ??
    flags.rekor_server ??
    flags.rekorUrl ??
    (process.env.REKOR_REKOR_SERVER || undefined);
  const url = explicit ?? (await resolveServices(flags)).rekorUrl;
  if (!url)
    throw new Error('no transparency log URL: pass --rekor-server or run `sigil initialize --root <URL>`');
  return new RekorClient(url);
}

/** rekor-cli names the body by its type's Go struct. */
const BODY_NAMES: Record<string, string> = {
  hashedrekord: 'HashedRekordObj',
  dsse: 'DSSEObj',
  intoto: 'IntotoObj',
  rekord: 'RekordObj',
};

function print(flags: LogFlags, json: unknown, text: string): void {
  process.stdout.write(flags.format === 'json' ? `${JSON.stringify(json)}\n` : text);
}

async function getEntry(rekor: RekorClient, o: { logIndex?: string; uuid?: string }): Promise<RekorEntry> {
  if ((o.logIndex === undefined) === (o.uuid === undefined))
    throw new Error('give exactly one of --log-index or --uuid');
  if (o.uuid) return rekor.getByUuid(o.uuid);
  if (!/^\d+$/.test(o.logIndex!))
    throw new Error(`--log-index must be a non-negative integer, not "${o.logIndex}"`);
  return rekor.getByIndex(Number(o.logIndex));
}

/** Records the fresh checkpoint after checking it is consistent with the last one remembered for that log. */
async function rememberCheckpoint(rekor: RekorClient, cp: VerifiedCheckpoint): Promise<void> {
  const { readLogState, writeLogState } = await import('../../trust/index.js');
  const { checkConsistent } = await import('../../verify/index.js');
  const state = await readLogState();
  const id = cp.log.logId.toString('hex');
  const last = state[id];
  if (last)
    await checkConsistent(
      rekor,
      { treeSize: last.treeSize, rootHash: Buffer.from(last.rootHash, 'hex') },
      cp,
    );
  if (!last || last.treeSize < cp.treeSize) {
    state[id] = { treeSize: cp.treeSize, rootHash: cp.rootHash.toString('hex'), origin: cp.origin };
    await writeLogState(state).catch((err) =>
      warn(`could not remember the checkpoint: ${(err as Error).message}`),
    );
  }
}

export function registerLogCommands(program: Command): void {
  const log = program.command('log').description('transparency log client (rekor-cli verbs)');

  addLogFlags(
    log
      .command('get')
      .description('print a log entry (rekor-cli get), after checking its SET and inclusion proof')
      .option('--log-index <n>', 'the entry at this index')
      .option('--uuid <uuid>', 'the entry with this UUID'),
  ).action(async (flags: LogFlags & { logIndex?: string; uuid?: string }) => {
    const { entryBody } = await import('../../formats/index.js');
    const { verifySignedEntryTimestamp, verifyEntryInclusion } = await import('../../verify/index.js');
    const [rekor, trust] = await Promise.all([rekorFor(flags), loadTrust(flags)]);
    const entry = await getEntry(rekor, flags);
    verifySignedEntryTimestamp(entry, trust);
    if (entry.verification?.inclusionProof) await verifyEntryInclusion(rekor, entry, trust);
    const body = entryBody(entry);
    const named = { [BODY_NAMES[body.kind] ?? `${body.kind}Obj`]: body.spec };
    const time = new Date(entry.integratedTime * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    print(
      flags,
      {
        LogID: entry.logID,
        LogIndex: entry.logIndex,
        IntegratedTime: entry.integratedTime,
        UUID: entry.uuid,
        Body: named,
      },
      `LogID: ${entry.logID}\nIndex: ${entry.logIndex}\nIntegratedTime: ${time}\nUUID: ${entry.uuid}\nBody: ${JSON.stringify(named, null, 2)}\n\n`,
    );
  });

  addLogFlags(
    log
      .command('verify')
      .description(
        'verify an entry is in the log: inclusion proof, signed checkpoint, consistency with a fresh one',
      )
      .option('--log-index <n>', 'the entry at this index')
      .option('--uuid <uuid>', 'the entry with this UUID'),
  ).action(async (flags: LogFlags & { logIndex?: string; uuid?: string }) => {
    const { verifySignedEntryTimestamp, verifyEntryInclusion, verifyCheckpointNote } = await import(
      '../../verify/index.js'
    );
    const [rekor, trust] = await Promise.all([rekorFor(flags), loadTrust(flags)]);
    const entry = await getEntry(rekor, flags);
    verifySignedEntryTimestamp(entry, trust);
    const report = await verifyEntryInclusion(rekor, entry, trust);
    const fresh = await rekor.logInfo();
    await rememberCheckpoint(rekor, verifyCheckpointNote(fresh.signedTreeHead, trust));
    // The lines of rekor-cli verify as it prints them today (sigstore/rekor cmd/rekor-cli/app/verify.go): the
    // checkpoint, each hashing step, and the computed against the expected root; test/peers/rekor-cli.test.ts
    // holds the real rekor-cli to the same lines.
    let text = `Current Root Hash: ${report.rootHash}\nEntry Hash: ${report.leafHash}\nEntry Index in Current Tree: ${report.index}\nCurrent Tree Size: ${report.treeSize}\n`;
    text += `Checkpoint:\n${report.checkpoint}\n\nInclusion Proof:\n`;
    for (const s of report.steps) text += `SHA256(0x01 | ${s.left} | ${s.right}) =\n\t${s.result}\n\n`;
    text += `Computed Root Hash: ${report.computedRoot}\nExpected Root Hash: ${report.rootHash}\n`;
    print(
      flags,
      {
        RootHash: report.rootHash,
        EntryUUID: entry.uuid,
        Index: report.index,
        Size: report.treeSize,
        Hashes: report.hashes,
        Checkpoint: report.checkpoint,
      },
      text,
    );
    info(`Consistent with the log's current checkpoint (tree size ${report.fresh.treeSize}).`);
  });

  addLogFlags(
    log
      .command('search')
      .description('find entries by artifact digest, signer public key or email (rekor-cli search)')
      .option('--sha <digest>', 'artifact digest, sha256:<hex> or <hex>')
      .option('--artifact <file>', 'artifact whose SHA-256 to search for')
      .option('--public-key <file>', 'PEM public key or certificate of the signer')
      .option('--pki-format <format>', 'format of --public-key', 'x509')
      .option('--email <email>', 'email in the signer certificate'),
  ).action(
    async (
      flags: LogFlags & {
        sha?: string;
        artifact?: string;
        publicKey?: string;
        pkiFormat?: string;
        email?: string;
      },
    ) => {
      const rekor = await rekorFor(flags);
      const query: Parameters<RekorClient['searchIndex']>[0] = {};
      if (flags.sha) {
        const hex = flags.sha.replace(/^sha256:/, '').toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(hex))
          throw new Error(`--sha must be a SHA-256 digest, not "${flags.sha}"`);
        query.hash = `sha256:${hex}`;
      }
      if (flags.artifact) {
        const { sha256Digest } = await import('../../sign/index.js');
        query.hash = sha256Digest(await readInput(flags.artifact));
      }
      if (flags.publicKey) {
        const pem = (await readInput(flags.publicKey)).toString('utf8');
        query.publicKey = { format: flags.pkiFormat ?? 'x509', content: Buffer.from(pem).toString('base64') };
      }
      if (flags.email) query.email = flags.email;
      if (Object.keys(query).length === 0) {
        throw new Error("either 'sha' or 'artifact' or 'public-key' or 'email' must be specified");
      }
      const uuids = await rekor.searchIndex(query);
      // rekor-cli search: no match is an error (exit 1); a match has its header on standard error.
      if (uuids.length === 0) throw new CliError('no matching entries found');
      if (flags.format !== 'json') info('Found matching entries (listed by UUID):');
      print(flags, { UUIDs: uuids }, `${uuids.join('\n')}\n`);
    },
  );

  addLogFlags(
    log
      .command('logproof')
      .description('print the consistency proof between two tree sizes (rekor-cli logproof)')
      .option('--first-size <n>', 'the size of the log where the proof should begin', '1')
      .requiredOption('--last-size <n>', 'the size of the log where the proof should end'),
  ).action(async (flags: LogFlags & { firstSize: string; lastSize: string }) => {
    const size = (v: string, name: string) => {
      if (!/^\d+$/.test(v) || Number(v) === 0) throw new CliError(`${name} must be > 0`);
      return Number(v);
    };
    const first = size(flags.firstSize, 'first-size');
    const last = size(flags.lastSize, 'last-size');
    if (first > last) throw new CliError('last-size must be >= to first-size');
    const rekor = await rekorFor(flags);
    const proof = await rekor.consistencyProof(first, last);
    print(
      flags,
      { RootHash: proof.rootHash, Hashes: proof.hashes },
      `Current Root Hash: ${proof.rootHash}\nHashes: [${proof.hashes.join(',')}]\n`,
    );
  });

  addLogFlags(
    log
      .command('upload')
      .description('add a signature over an artifact to the log (rekor-cli upload, type hashedrekord)')
      .option('--artifact <file>', 'the signed file')
      .option('--artifact-hash <digest>', 'its SHA-256 instead of the file (sha256:<hex> or <hex>)')
      .option('--signature <file>', 'the signature (raw, or base64 as cosign writes it)')
      .option('--public-key <file>', "the signer's PEM public key or certificate")
      .option('--pki-format <format>', 'format of --public-key (x509 only)', 'x509')
      .option('--type <type>', 'entry type: hashedrekord (sigil logs no rekord entries)', 'hashedrekord'),
  ).action(
    async (
      flags: LogFlags & {
        artifact?: string;
        artifactHash?: string;
        signature?: string;
        publicKey?: string;
        pkiFormat?: string;
        type?: string;
      },
    ) => {
      const type = (flags.type ?? 'hashedrekord').split(':')[0];
      if (type !== 'hashedrekord')
        throw new CliError(
          `--type ${flags.type}: sigil's log takes hashedrekord entries here (cosign's and sigil's signers log those); pass --type hashedrekord`,
        );
      if (flags.pkiFormat && flags.pkiFormat !== 'x509')
        throw new CliError(`--pki-format ${flags.pkiFormat}: only x509 (PEM keys and certificates)`);
      if (!flags.signature || !flags.publicKey || (!flags.artifact && !flags.artifactHash))
        throw new CliError('give --artifact (or --artifact-hash), --signature and --public-key');
      const { hashedRekordProposal } = await import('../../formats/index.js');
      const { sha256Digest } = await import('../../sign/index.js');
      let hex: string;
      if (flags.artifactHash) {
        hex = flags.artifactHash.replace(/^sha256:/, '').toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(hex)) throw new CliError('--artifact-hash must be a SHA-256 digest');
      } else hex = sha256Digest(await readInput(flags.artifact!)).slice('sha256:'.length);
      const raw = await readInput(flags.signature);
      const text = raw.toString('utf8').trim();
      const signature = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : raw;
      const pem = (await readInput(flags.publicKey)).toString('utf8');
      const rekor = await rekorFor(flags);
      const entry = await rekor.createEntry(hashedRekordProposal(hex, signature, pem));
      const location = `/api/v1/log/entries/${entry.uuid}`;
      print(
        flags,
        { Location: location, Index: entry.logIndex },
        `Created entry at index ${entry.logIndex}, available at: ${rekor.baseUrl.replace(/\/+$/, '')}${location}\n`,
      );
    },
  );

  addLogFlags(
    log
      .command('info')
      .alias('loginfo')
      .description("print and verify the log's signed tree head (rekor-cli loginfo)"),
  ).action(async (flags: LogFlags) => {
    const { verifyCheckpointNote } = await import('../../verify/index.js');
    const [rekor, trust] = await Promise.all([rekorFor(flags), loadTrust(flags)]);
    const li = await rekor.logInfo();
    const cp = verifyCheckpointNote(li.signedTreeHead, trust);
    if (cp.treeSize !== li.treeSize || cp.rootHash.toString('hex') !== li.rootHash.toLowerCase()) {
      throw new Error('the log info does not match its signed tree head');
    }
    await rememberCheckpoint(rekor, cp);
    print(
      flags,
      {
        ActiveTreeSize: li.treeSize,
        TotalTreeSize: li.treeSize,
        RootHash: li.rootHash,
        TreeID: li.treeID ?? '',
      },
      `Verification Successful!\nActive Tree Size:       ${li.treeSize}\nTotal Tree Size:        ${li.treeSize}\nRoot Hash:              ${li.rootHash}\nTreeID:                 ${li.treeID ?? ''}\n`,
    );
  });
}
