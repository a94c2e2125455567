// `sigil serve ca`, and the CA's part of `sigil up`: the CA with the CT log it takes SCTs from, (by default) the CI
// identity issuer, and the trust files naming them, composed on one server as one service named "ca". Each part
// is a service of its own (`sigil serve ct`, `sigil serve oidc` run them alone); this is where they meet.
import {
  type CaConfig,
  createCaService,
  type HierarchySigners,
  loadCaConfig,
  openHierarchy,
} from '../ca/index.js';
import type { Signer } from '../crypto/index.js';
import { CT_PATH_PREFIX, CT_WORKER_SCT_MODULE, ctService, type WorkerSctInit } from '../ct/index.js';
import { CiIssuer, oidcService } from '../oidc/index.js';
import type { Service, ServiceContext } from '../service/index.js';
import { combineServices } from './app.js';
import { openCtLog } from './ct.js';
import { oidcStores } from './storage.js';
import { type TransparencyLogRef, trustFilesService } from './trust-files.js';

export interface CaStackOptions {
  /** Serve the CI issuer on this server too (default: true). */
  issuer?: boolean;
  /** The transparency log for the trust files; the log service's key in the data dir when absent (readLogKey). */
  log?: TransparencyLogRef;
  /** KMS/HSM-backed signers instead of key files in the data dir. */
  signers?: HierarchySigners & { ct?: Signer };
  /** Overrides ca-config.json (tests, `sigil up`). */
  config?: Partial<CaConfig>;
  /**
   * Worker threads that do the issuance crypto (default: one per core, up to 4; 0: all on the main thread).
   * Workers open the key files themselves, so custom `signers` imply 0.
   */
  issueWorkers?: number;
}

export async function createCaStack(ctx: ServiceContext, options: CaStackOptions = {}): Promise<Service> {
  const config: CaConfig = { ...(await loadCaConfig(ctx.dataDir)), ...options.config };
  const hierarchy = await openHierarchy(ctx.dataDir, options.signers);
  const ct = await openCtLog(ctx.dataDir, hierarchy, options.signers?.ct);
  const workerSct = ct.keyPath
    ? { module: CT_WORKER_SCT_MODULE, init: { keyPath: ct.keyPath } satisfies WorkerSctInit }
    : undefined;
  const ca = createCaService(ctx, {
    config,
    hierarchy,
    ct: ct.log,
    workerSct,
    issueWorkers: options.signers ? 0 : options.issueWorkers,
  });
  const withIssuer = options.issuer !== false;
  const oidc = withIssuer
    ? [
        oidcService(
          await CiIssuer.open(ctx.dataDir, ctx.publicUrl, {
            devMode: config.oidcDevMode,
            stores: oidcStores(),
          }),
        ),
      ]
    : [];
  const trust = trustFilesService(ctx, {
    caChain: [hierarchy.intermediateDer, hierarchy.rootDer],
    caValidFrom: hierarchy.validFrom,
    ct: { path: CT_PATH_PREFIX, publicKey: ct.log.publicKey, validFrom: ct.validFrom },
    oidc: withIssuer,
    log: options.log,
    logUrl: config.logUrl,
    rekorApiVersion: config.rekorApiVersion,
  });
  // Started in this order (the trust files are written before the issue workers start, as before), closed in
  // the reverse: the CA's workers stop before the CT log they hand records to.
  return combineServices('ca', [ctService(ct.log), ...oidc, trust, ca]);
}

/** `sigil serve ca`: reads everything from the data dir; SIGIL_CA_ISSUE_WORKERS overrides the worker count. */
export function caStackFactory(ctx: ServiceContext): Promise<Service> {
  const workers = process.env.SIGIL_CA_ISSUE_WORKERS;
  if (workers !== undefined && !/^\d{1,2}$/.test(workers))
    throw new Error(`SIGIL_CA_ISSUE_WORKERS must be a small number, got ${JSON.stringify(workers)}`);
  return createCaStack(ctx, workers === undefined ? {} : { issueWorkers: Number(workers) });
}

/** `sigil serve oidc`: the CI issuer alone; its dev mode is ca-config.json's oidcDevMode, as under `serve ca`. */
export async function oidcServiceFactory(ctx: ServiceContext): Promise<Service> {
  const config = await loadCaConfig(ctx.dataDir);
  return oidcService(
    await CiIssuer.open(ctx.dataDir, ctx.publicUrl, { devMode: config.oidcDevMode, stores: oidcStores() }),
  );
}
