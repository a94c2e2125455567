// The `ca` service: the certificate authority, its CT log and (by default) the CI identity issuer on one
// server, plus the trust files clients are pointed at (`/trusted_root.json`, `/signing_config.json`, also
// written to the data dir). `sigil serve ca` runs it alone; `sigil up` composes it with the transparency log,
// passing the log's key and URL in.
import type { KeyObject } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  keyValidFrom,
  loadOrCreatePrivateKey,
  localSigner,
  type Signer,
  writeFileAtomic,
} from '../crypto/index.js';
import { CtLog, CtTree, openFileEntryStore, recordLeaf, registerCtRoutes } from '../ct/index.js';
import { readLogKey } from '../log/index.js';
import { CiIssuer, registerOidcRoutes } from '../oidc/index.js';
import type { Service, ServiceContext } from '../service/index.js';
import { buildSigningConfig, buildTrustedRoot } from '../trust/index.js';
import { CertificateAuthority } from './authority.js';
import { type CaConfig, DEFAULT_AUDIENCE, loadCaConfig } from './config.js';
import { type HierarchySigners, openHierarchy } from './hierarchy.js';
import { registerCaRoutes } from './http.js';
import type { IssuerConfig } from './identity.js';
import { defaultWorkerCount, IssuePool } from './pool.js';
import { TokenVerifier } from './tokens.js';

export const TRUSTED_ROOT_FILE = 'trusted_root.json';
export const SIGNING_CONFIG_FILE = 'signing_config.json';
export const CT_PATH_PREFIX = '/ct';

export interface TransparencyLogRef {
  /** Base URL of the Rekor-compatible log; the server's own URL when absent. */
  url?: string;
  publicKey: KeyObject;
  validFrom?: Date;
}

export interface CaServiceOptions {
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

/** A key's validity starts a little before it was made, for clients with slow clocks. */
const backdate = (d: Date) => new Date(d.getTime() - 60_000);

export async function createCaService(ctx: ServiceContext, options: CaServiceOptions = {}): Promise<Service> {
  const config: CaConfig = { ...(await loadCaConfig(ctx.dataDir)), ...options.config };
  const hierarchy = await openHierarchy(ctx.dataDir, options.signers);
  await mkdir(join(ctx.dataDir, 'ct'), { recursive: true });
  const ctKeyPath = join(ctx.dataDir, 'ct', 'ct-key.pem');
  const ctSigner = options.signers?.ct ?? localSigner(await loadOrCreatePrivateKey(ctKeyPath, 'ecdsa-p256'));
  // A CT key held by a KMS/HSM has no file here: the CA root's start stands for it.
  const ctValidFrom = options.signers?.ct ? hierarchy.validFrom : backdate(await keyValidFrom(ctKeyPath));
  const ctQueue = openFileEntryStore(join(ctx.dataDir, 'ct', 'entries.log'));
  // The tree engine gets a thread of its own when the CT key is a file it can open there.
  const treeKey = options.signers?.ct ? undefined : ctKeyPath;
  const ctTree = await CtTree.open(join(ctx.dataDir, 'ct'), ctSigner, ctQueue, recordLeaf, treeKey);
  const ct = new CtLog({
    signer: ctSigner,
    store: ctQueue,
    roots: [hierarchy.rootDer],
    defaultChain: [hierarchy.intermediateDer, hierarchy.rootDer],
    tree: ctTree,
  });

  const issuers = (): IssuerConfig[] =>
    config.allowOwnIssuer
      ? [
          ...config.issuers,
          { issuerUrl: ctx.publicUrl(), type: 'github-workflow', clientId: DEFAULT_AUDIENCE },
        ]
      : config.issuers;
  const ca = new CertificateAuthority(hierarchy, new TokenVerifier(issuers), ct);
  const withIssuer = options.issuer !== false;
  const oidc = withIssuer
    ? await CiIssuer.open(ctx.dataDir, ctx.publicUrl, { devMode: config.oidcDevMode })
    : undefined;

  const workerCount = options.signers ? 0 : (options.issueWorkers ?? defaultWorkerCount());
  let pool: IssuePool | undefined;

  let log = options.log;
  let trust: { root: Record<string, unknown>; signing: Record<string, unknown> } | undefined;

  async function buildTrustFiles(): Promise<NonNullable<typeof trust>> {
    log ??= await readLogKey(ctx.dataDir);
    const base = ctx.publicUrl();
    const root = buildTrustedRoot({
      certificateAuthorities: [
        {
          baseUrl: base,
          organization: 'sigil',
          commonName: 'sigil root',
          chain: [hierarchy.intermediateDer, hierarchy.rootDer],
          validFrom: hierarchy.validFrom,
        },
      ],
      tlogs: log
        ? [
            {
              baseUrl: log.url ?? config.logUrl ?? base,
              publicKey: log.publicKey,
              validFrom: log.validFrom ?? hierarchy.validFrom,
            },
          ]
        : [],
      ctlogs: [
        { baseUrl: `${base}${CT_PATH_PREFIX}`, publicKey: ctSigner.publicKey, validFrom: ctValidFrom },
      ],
    });
    const signing = buildSigningConfig({
      caUrl: base,
      oidcUrl: oidc ? base : undefined,
      rekorUrl: log?.url ?? config.logUrl ?? base,
      validFrom: hierarchy.validFrom,
    });
    await writeFileAtomic(join(ctx.dataDir, TRUSTED_ROOT_FILE), `${JSON.stringify(root, null, 2)}\n`);
    await writeFileAtomic(join(ctx.dataDir, SIGNING_CONFIG_FILE), `${JSON.stringify(signing, null, 2)}\n`);
    return { root, signing };
  }

  /** The log may start after the CA (separate processes): pick its key up once it exists. */
  async function currentTrust() {
    if (!trust || !log) trust = await buildTrustFiles();
    return trust;
  }

  return {
    name: 'ca',
    async register(app: FastifyInstance) {
      await registerCaRoutes(app, ca, issuers, config.rateLimit || undefined);
      await app.register(async (scope) => registerCtRoutes(scope, ct), { prefix: CT_PATH_PREFIX });
      if (oidc) await registerOidcRoutes(app, oidc);
      app.get(`/${TRUSTED_ROOT_FILE}`, async () => (await currentTrust()).root);
      app.get(`/${SIGNING_CONFIG_FILE}`, async () => (await currentTrust()).signing);
    },
    async started() {
      trust = await buildTrustFiles();
      if (workerCount > 0) {
        pool = await IssuePool.start(workerCount, ctx.dataDir, issuers());
        ca.preparer = pool;
      }
    },
    async close() {
      ca.preparer = undefined;
      await pool?.close();
      await ct.close();
    },
  };
}

/** `sigil serve ca`: reads everything from the data dir; SIGIL_CA_ISSUE_WORKERS overrides the worker count. */
export function caServiceFactory(ctx: ServiceContext): Promise<Service> {
  const workers = process.env.SIGIL_CA_ISSUE_WORKERS;
  if (workers !== undefined && !/^\d{1,2}$/.test(workers))
    throw new Error(`SIGIL_CA_ISSUE_WORKERS must be a small number, got ${JSON.stringify(workers)}`);
  return createCaService(ctx, workers === undefined ? {} : { issueWorkers: Number(workers) });
}
