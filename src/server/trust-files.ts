// The trust files clients are pointed at: trusted_root.json (the CA's chain, the transparency logs' (v1 and v2)
// and the CT log's keys, the TSA's chain) and signing_config.json (where to get certificates, tokens and log entries), built from the services
// composed next to each other, served at /trusted_root.json and /signing_config.json and written to the data dir
// (where the TUF repository and a shell's SIGIL_TRUST_DIR find them).
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../crypto/index.js';
import { readLogKey, readRekorV2LogInfo } from '../log/index.js';
import type { Service, ServiceContext } from '../service/index.js';
import { buildSigningConfig, buildTrustedRoot } from '../trust/index.js';
import { readTsaCertificates, TIMESTAMP_PATH } from '../tsa/index.js';

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
  /**
   * Which log signing_config.json sends clients to: 1, the Rekor v1 log (the default), or 2, the Rekor v2 log,
   * which needs the TSA as it gives no time of signing (ca-config.json rekorApiVersion, `sigil up --rekor-v2`).
   * The TSA is listed whenever it runs on the data dir.
   */
  rekorApiVersion?: 1 | 2;
}

type TrustFiles = { root: Record<string, unknown>; signing: Record<string, unknown> };

export function trustFilesService(ctx: ServiceContext, inputs: TrustFileInputs): Service {
  let log = inputs.log;
  let trust: TrustFiles | undefined;

  async function build(): Promise<TrustFiles> {
    log ??= await readLogKey(ctx.dataDir);
    // The v2 log and the TSA, when they run on this data dir (in `sigil up`, or `sigil serve log-v2|tsa`).
    const [v2, tsa] = await Promise.all([readRekorV2LogInfo(ctx.dataDir), readTsaCertificates(ctx.dataDir)]);
    const base = ctx.publicUrl();
    const logUrl = log?.url ?? inputs.logUrl ?? base;
    const tsaUrl = `${base}${TIMESTAMP_PATH}`;
    const useV2 = inputs.rekorApiVersion === 2;
    if (useV2 && (!v2 || !tsa))
      throw new Error(
        `rekorApiVersion 2 needs the Rekor v2 log and the TSA on this data dir (${!v2 ? 'no log-v2/log.json' : 'no tsa/ chain'}): start them with sigil up, or sigil serve log-v2 and sigil serve tsa`,
      );
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
      tlogs: [
        ...(log
          ? [{ baseUrl: logUrl, publicKey: log.publicKey, validFrom: log.validFrom ?? inputs.caValidFrom }]
          : []),
        // Its base URL's host is its checkpoint origin (how sigstore-go names the note verifier).
        ...(v2
          ? [{ baseUrl: base, publicKey: v2.publicKey, validFrom: v2.validFrom, checkpointKeyId: v2.logId }]
          : []),
      ],
      ctlogs: [
        {
          baseUrl: `${base}${inputs.ct.path}`,
          publicKey: inputs.ct.publicKey,
          validFrom: inputs.ct.validFrom,
        },
      ],
      timestampAuthorities: tsa
        ? [
            {
              baseUrl: tsaUrl,
              organization: 'sigil',
              commonName: 'sigil TSA',
              chain: tsa.certificates,
              validFrom: tsa.validFrom,
            },
          ]
        : [],
    });
    const signing = buildSigningConfig({
      caUrl: base,
      oidcUrl: inputs.oidc ? base : undefined,
      rekorUrl: useV2 ? base : logUrl,
      rekorApiVersion: useV2 ? 2 : 1,
      // The TSA whenever one runs: a v2 log needs it, and Sigstore clients timestamp v1 signatures too.
      tsaUrls: tsa ? [tsaUrl] : [],
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
