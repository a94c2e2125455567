// Public interface of monitor/: the identity monitor (client side: it reads logs over HTTP only). It follows a log's
// tiles from a saved state, verifies each checkpoint and its consistency with the last, and reports entries whose
// certificate names a watched identity. Usage: runMonitor({ logUrl, trust: trustFromKey(pem), rule, statePath, … }).
export {
  certificateCandidates,
  entryIdentities,
  type IdentityRule,
  identityOf,
  matchIdentity,
  mayMatch,
  prefilterFor,
} from './entries.js';
export { monitorPass } from './monitor.js';
export { runMonitor } from './run.js';
export { trustFromKey } from './trust.js';
