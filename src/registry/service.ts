// The registry as a sigil Service: reads its config in <dataDir>/registry, runs the engine on the storage it is
// given, and mounts the distribution API under /v2/ on the shared server. src/server/ composes it (with the storage
// backend it chooses) for `sigil serve registry` and `sigil up`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertRateLimit, type RateLimit } from '../limits/index.js';
import type { Service, ServiceContext } from '../service/index.js';
import { Authority, DEFAULT_TOKEN_TTL_SECONDS } from './auth.js';
import { Registry } from './engine.js';
import { DEFAULT_TOKEN_RATE_LIMIT } from './rate-limit.js';
import { answerFrameworkError, registerRegistryRoutes } from './routes/index.js';
import type { RegistryStorage } from './storage.js';

/** `<dataDir>/registry/config.json`; every field optional. */
export interface RegistryConfig {
  /**
   * Let anyone pull without credentials (default false: an organization's images and the signatures next to
   * them are private unless it says otherwise; `--anonymous-pull` on `sigil up` / `sigil serve registry`).
   */
  anonymousPull?: boolean;
  /** The token `service` / audience (default "sigil-registry"). */
  service?: string;
  tokenTtlSeconds?: number;
  /** Largest blob accepted, in bytes (default 10 GiB); a larger upload is refused with 413 as it streams in. */
  maxBlobBytes?: number;
  /** Bytes of blobs each repository may hold (default, or null: no quota); going past it is refused with 413. */
  repositoryQuotaBytes?: number | null;
  /** Token requests that check a password, per client address (default 60 a minute, bursts of 20); else 429. */
  tokenRateLimit?: Partial<RateLimit>;
}

export const CONFIG_FILE = 'config.json';

/** Where the registry keeps its config, users and token key (and, with the default backends, its data). */
export function registryRoot(dataDir: string): string {
  return join(dataDir, 'registry');
}

const DEFAULT_SERVICE = 'sigil-registry';

export async function readRegistryConfig(dataDir: string): Promise<RegistryConfig> {
  let config: RegistryConfig;
  try {
    config = JSON.parse(await readFile(join(registryRoot(dataDir), CONFIG_FILE), 'utf8')) as RegistryConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${CONFIG_FILE}: ${(err as Error).message}`);
  }
  // A limit mistyped as a string or a negative number would silently mean "no limit" or "refuse everything".
  for (const field of ['maxBlobBytes', 'repositoryQuotaBytes', 'tokenTtlSeconds'] as const) {
    const v = config[field];
    if (v !== undefined && v !== null && (!Number.isSafeInteger(v) || v <= 0)) {
      throw new Error(`${CONFIG_FILE}: ${field} must be a positive integer, not ${JSON.stringify(v)}`);
    }
  }
  return config;
}

export interface RegistryServiceOptions {
  /** No credentials needed for anything (local tests only). */
  anonymousPush?: boolean;
  /** Overrides config.json's anonymousPull (true from `--anonymous-pull`). */
  anonymousPull?: boolean;
}

/** The registry service; `openStorage` is called once the config has been checked. */
export async function createRegistryService(
  ctx: ServiceContext,
  openStorage: () => Promise<RegistryStorage>,
  options: RegistryServiceOptions = {},
): Promise<Service & { registry: Registry }> {
  const config = await readRegistryConfig(ctx.dataDir);
  const rateLimit = assertRateLimit(
    { ...DEFAULT_TOKEN_RATE_LIMIT, ...config.tokenRateLimit },
    `${CONFIG_FILE}: tokenRateLimit`,
  );
  const registry = new Registry(await openStorage(), {
    maxBlobBytes: config.maxBlobBytes,
    repositoryQuotaBytes: config.repositoryQuotaBytes ?? undefined,
  });
  const authority = options.anonymousPush
    ? undefined
    : await Authority.open(registryRoot(ctx.dataDir), {
        service: config.service ?? DEFAULT_SERVICE,
        policy: { anonymousPull: options.anonymousPull ?? config.anonymousPull ?? false },
        ttlSeconds: config.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
        rateLimit,
      });
  return {
    name: 'registry',
    registry,
    async register(app) {
      await registerRegistryRoutes(app, { registry, authority, publicUrl: ctx.publicUrl });
    },
    frameworkError: answerFrameworkError,
    async close() {
      await registry.close();
    },
  };
}
