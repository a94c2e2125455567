// Public interface of tsa/: the RFC 3161 timestamp authority (its chain in the data dir, the engine, the
// sigstore/timestamp-authority wire API) and the composed `tsa` service.
import type { Service, ServiceContext } from '../service/index.js';
import { type TimestampAuthority, timestampAuthority } from './authority.js';
import { openTsaChain, type TsaChain } from './chain.js';
import { registerTsaRoutes } from './http.js';

export { timestampAuthority } from './authority.js';
export { openTsaChain, readTsaCertificates } from './chain.js';
export { TIMESTAMP_PATH } from './http.js';

/** The `tsa` service; `chain` is the TSA's certificates for the trust files (server/ lists them). */
export async function createTsaService(
  ctx: ServiceContext,
): Promise<Service & { chain: TsaChain; authority: TimestampAuthority }> {
  const chain = await openTsaChain(ctx.dataDir);
  const authority = timestampAuthority(chain);
  return {
    name: 'tsa',
    chain,
    authority,
    register: (app) => registerTsaRoutes(app, authority),
    async close() {},
  };
}
