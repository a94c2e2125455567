// The CT log on a data dir (`sigil serve ct`, and inside `sigil serve ca` / `sigil up`): its key, its entry queue
// and its Merkle tree under <dataDir>/ct (queue and tree in PostgreSQL with --database), accepting the precertificates of the CA whose hierarchy is in the same
// data dir.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type CaHierarchy, openHierarchy } from '../ca/index.js';
import { keyValidFrom, loadOrCreatePrivateKey, localSigner, type Signer } from '../crypto/index.js';
import { CtLog, CtTree, ctService, openFileEntryStore, recordLeaf } from '../ct/index.js';
import type { Service, ServiceContext } from '../service/index.js';
import { openPostgresCtQueue } from '../storage/postgres/index.js';
import { logStorage } from './storage.js';

export interface OpenedCt {
  log: CtLog;
  /** When the CT key became valid: the trusted root's validFor.start for this log. */
  validFrom: Date;
  /** The key file, when the key is one (threads that sign SCTs open it themselves). */
  keyPath?: string;
}

/** A key's validity starts a little before it was made, for clients with slow clocks. */
const backdate = (d: Date) => new Date(d.getTime() - 60_000);

/** `signer`: a KMS/HSM-held CT key instead of the key file. */
export async function openCtLog(dataDir: string, hierarchy: CaHierarchy, signer?: Signer): Promise<OpenedCt> {
  const dir = join(dataDir, 'ct');
  await mkdir(dir, { recursive: true });
  const keyPath = signer ? undefined : join(dir, 'ct-key.pem');
  const ctSigner = signer ?? localSigner(await loadOrCreatePrivateKey(join(dir, 'ct-key.pem'), 'ecdsa-p256'));
  // A CT key held by a KMS/HSM has no file here: the CA root's start stands for it.
  const validFrom = keyPath ? backdate(await keyValidFrom(keyPath)) : hierarchy.validFrom;
  // With a database the queue is there, shared by every frontend; the tree then runs on this thread, where its
  // engine tells the merger whether this frontend sequences it (tree-backend.ts).
  const database = process.env.SIGIL_DATABASE_URL;
  const store = database ? await openPostgresCtQueue(database) : openFileEntryStore(join(dir, 'entries.log'));
  // The tree engine gets a thread of its own when the CT key is a file it can open there.
  const tree = await CtTree.open(
    dir,
    ctSigner,
    store,
    recordLeaf,
    logStorage(),
    database ? undefined : keyPath,
  );
  const log = new CtLog({
    signer: ctSigner,
    store,
    roots: [hierarchy.rootDer],
    defaultChain: [hierarchy.intermediateDer, hierarchy.rootDer],
    tree,
  });
  return { log, validFrom, keyPath };
}

/** `sigil serve ct`: the CT log alone, for the CA whose keys are in the same data dir. */
export async function ctServiceFactory(ctx: ServiceContext): Promise<Service> {
  const { log } = await openCtLog(ctx.dataDir, await openHierarchy(ctx.dataDir));
  return ctService(log);
}
