// The registry as a sigil Service: opens the engine in <dataDir>/registry, reads its config, and mounts the
// distribution API under /v2/ on the shared server. Used by `sigil serve registry` and `sigil up`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Service, ServiceContext } from '../server/index.js';
import { Authority, DEFAULT_TOKEN_TTL_SECONDS } from './auth.js';
import { Registry, registryRoot } from './engine.js';
import { registerRegistryRoutes } from './http.js';

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
}

export const CONFIG_FILE = 'config.json';
const DEFAULT_SERVICE = 'sigil-registry';

export async function readRegistryConfig(dataDir: string): Promise<RegistryConfig> {
  try {
    return JSON.parse(await readFile(join(registryRoot(dataDir), CONFIG_FILE), 'utf8')) as RegistryConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${CONFIG_FILE}: ${(err as Error).message}`);
  }
}

export interface RegistryServiceOptions {
  /** No credentials needed for anything (local tests only). */
  anonymousPush?: boolean;
  /** Overrides config.json's anonymousPull (true from `--anonymous-pull`). */
  anonymousPull?: boolean;
}

export async function createRegistryService(
  ctx: ServiceContext,
  options: RegistryServiceOptions = {},
): Promise<Service & { registry: Registry }> {
  const registry = await Registry.open(ctx.dataDir);
  const config = await readRegistryConfig(ctx.dataDir);
  const authority = options.anonymousPush
    ? undefined
    : await Authority.open(registry.root, {
        service: config.service ?? DEFAULT_SERVICE,
        policy: { anonymousPull: options.anonymousPull ?? config.anonymousPull ?? false },
        ttlSeconds: config.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
      });
  return {
    name: 'registry',
    registry,
    async register(app) {
      await registerRegistryRoutes(app, { registry, authority, publicUrl: ctx.publicUrl });
    },
    async close() {
      registry.close();
    },
  };
}

/** The factory shape `src/server/registry-of-services.ts` expects (flags from `sigil serve`). */
export function registryServiceFactory(
  ctx: ServiceContext,
  flags: Record<string, unknown>,
): Promise<Service> {
  return createRegistryService(ctx, {
    anonymousPush: flags.anonymousPush === true,
    anonymousPull: typeof flags.anonymousPull === 'boolean' ? flags.anonymousPull : undefined,
  });
}
