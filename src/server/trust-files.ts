// The trust files clients are pointed at: trusted_root.json (the CA's chain, the transparency log's and the CT
// log's keys) and signing_config.json (where to get certificates, tokens and log entries), built from the services
// composed next to each other, served at /trusted_root.json and /signing_config.json and written to the data dir
// (where the TUF repository and a shell's SIGIL_TRUST_DIR find them).
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../crypto/index.js';
import { readLogKey } from '../log/index.js';
import type { Service, ServiceContext } from '../service/index.js';
import { buildSigningConfig, buildTrustedRoot } from '../trust/index.js';

export const TRUSTED_ROOT_FILE = 'trusted_root.json';
export const SIGNING_CONFIG_FILE = 'signing_config.json';

export interface TransparencyLogRef {
  /** Base URL of the Rekor-compatible log; the server's own URL when absent. */
  url?: string;
  publicKey: KeyObject;
  validFrom?: Date;
}

export interface TrustFileInputs {
  /** The CA's chain (intermediate, root, DER) and when its root became valid. */
  caChain: Buffer[];
  caValidFrom: Date;
  /** The CT log, at `<base><ctPath>`. */
  ct: { path: string; publicKey: KeyObject; validFrom: Date };
  /** Whether the CI issuer is on this server (signing_config names it then). */
  oidc: boolean;
  /** The transparency log; the log service's key in the data dir when absent (readLogKey). */
  log?: TransparencyLogRef;
  /** The log's URL when `log` gives none (ca-config.json logUrl); the server's own URL otherwise. */
  logUrl?: string;
}

type TrustFiles = { root: Record<string, unknown>; signing: Record<string, unknown> };

export function trustFilesService(ctx: ServiceContext, inputs: TrustFileInputs): Service {
  let log = inputs.log;
  let trust: TrustFiles | undefined;

  async function build(): Promise<TrustFiles> {
    log ??= await readLogKey(ctx.dataDir);
    const base = ctx.publicUrl();
    const logUrl = log?.url ?? inputs.logUrl ?? base;
    const root = buildTrustedRoot({
      certificateAuthorities: [
        {
          baseUrl: base,
          organization: 'sigil',
          commonName: 'sigil root',
          chain: inputs.caChain,
          validFrom: inputs.caValidFrom,
        },
      ],
      tlogs: log
        ? [{ baseUrl: logUrl, publicKey: log.publicKey, validFrom: log.validFrom ?? inputs.caValidFrom }]
        : [],
      ctlogs: [
        {
          baseUrl: `${base}${inputs.ct.path}`,
          publicKey: inputs.ct.publicKey,
          validFrom: inputs.ct.validFrom,
        },
      ],
    });
    const signing = buildSigningConfig({
      caUrl: base,
      oidcUrl: inputs.oidc ? base : undefined,
      rekorUrl: logUrl,
      validFrom: inputs.caValidFrom,
    });
    await writeFileAtomic(join(ctx.dataDir, TRUSTED_ROOT_FILE), `${JSON.stringify(root, null, 2)}\n`);
    await writeFileAtomic(join(ctx.dataDir, SIGNING_CONFIG_FILE), `${JSON.stringify(signing, null, 2)}\n`);
    return { root, signing };
  }

  /** The log may start after the CA (separate processes): pick its key up once it exists. */
  async function current(): Promise<TrustFiles> {
    if (!trust || !log) trust = await build();
    return trust;
  }

  return {
    name: 'trust-files',
    async register(app) {
      app.get(`/${TRUSTED_ROOT_FILE}`, async () => (await current()).root);
      app.get(`/${SIGNING_CONFIG_FILE}`, async () => (await current()).signing);
    },
    async started() {
      trust = await build();
    },
    async close() {},
  };
}
