// The `ca` service alone: Fulcio's API over a CertificateAuthority, with its issuance worker pool. What it logs
// precertificates to (the CT log), where its identity tokens come from and which trust files point clients at
// it are composed around it by server/ (server/ca-stack.ts): the CA gets the CT log through the small
// interfaces of authority.ts.
import type { FastifyInstance } from 'fastify';
import type { Service, ServiceContext } from '../service/index.js';
import { CertificateAuthority, type CtLogLink, type WorkerSctSource } from './authority.js';
import { type CaConfig, DEFAULT_AUDIENCE } from './config.js';
import type { CaHierarchy } from './hierarchy.js';
import { registerCaRoutes } from './http.js';
import type { IssuerConfig } from './identity.js';
import { defaultWorkerCount, IssuePool } from './pool.js';
import { TokenVerifier } from './tokens.js';

export interface CaServiceOptions {
  config: CaConfig;
  hierarchy: CaHierarchy;
  /** The CT log SCTs come from; without one, certificates carry no SCT (clients that require one refuse them). */
  ct?: CtLogLink;
  /** The same CT log's SCT signer as the issue workers open it (they run in threads of their own). */
  workerSct?: WorkerSctSource;
  /**
   * Worker threads that do the issuance crypto (default: one per core, up to 4; 0: all on the main thread).
   * Workers open the key files themselves: a CT log without `workerSct` implies 0.
   */
  issueWorkers?: number;
}

export function createCaService(ctx: ServiceContext, options: CaServiceOptions): Service {
  const { config, hierarchy } = options;
  const issuers = (): IssuerConfig[] =>
    config.allowOwnIssuer
      ? [
          ...config.issuers,
          { issuerUrl: ctx.publicUrl(), type: 'github-workflow', clientId: DEFAULT_AUDIENCE },
        ]
      : config.issuers;
  const ca = new CertificateAuthority(hierarchy, new TokenVerifier(issuers), options.ct);
  const workerCount = options.ct && !options.workerSct ? 0 : (options.issueWorkers ?? defaultWorkerCount());
  let pool: IssuePool | undefined;
  return {
    name: 'ca',
    async register(app: FastifyInstance) {
      await registerCaRoutes(app, ca, issuers, config.rateLimit || undefined);
    },
    async started() {
      if (workerCount > 0) {
        pool = await IssuePool.start(workerCount, ctx.dataDir, issuers(), options.workerSct);
        ca.preparer = pool;
      }
    },
    async close() {
      ca.preparer = undefined;
      await pool?.close();
    },
  };
}
