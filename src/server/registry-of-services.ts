// The table of services `sigil serve <name>` can start alone. Each component adds its factory here; `sigil up`
// composes several. A factory opens the engine's storage in ctx.dataDir and returns a Service.
import type { Service, ServiceContext } from '../service/index.js';
import { createTsaService } from '../tsa/index.js';
import { createTufService } from '../tuf/index.js';
import { caStackFactory, oidcServiceFactory } from './ca-stack.js';
import { ctServiceFactory } from './ct.js';
import { logService, logV2Service, registryService } from './storage.js';
import { trustTargets } from './trust-targets.js';

export type ServiceFactory = (ctx: ServiceContext, flags: Record<string, unknown>) => Promise<Service>;

export const serviceFactories: Record<string, ServiceFactory> = {
  registry: (ctx, flags) =>
    registryService(ctx, {
      anonymousPush: flags.anonymousPush === true,
      anonymousPull: typeof flags.anonymousPull === 'boolean' ? flags.anonymousPull : undefined,
    }),
  // The CA with its CT log, the CI issuer and the trust files, as before they could run apart.
  ca: caStackFactory,
  ct: ctServiceFactory,
  oidc: oidcServiceFactory,
  log: logService,
  // Rekor v2 (tile-based, rekor-tiles' API); clients that log to it need a TSA.
  'log-v2': logV2Service,
  tsa: createTsaService,
  // Publishes the trust files a CA on the same data dir writes (`sigil serve ca` or `sigil up`).
  tuf: (ctx) => createTufService(ctx, { targets: trustTargets(ctx.dataDir) }),
};

export function serviceNames(): string[] {
  return Object.keys(serviceFactories).sort();
}
