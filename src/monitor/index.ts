// Public interface of monitor/: the identity monitor (client side: it reads logs over HTTP only). It follows a log's
// tiles from a saved state, verifies each checkpoint and its consistency with the last, and reports entries whose
// certificate names a watched identity. Usage: runMonitor({ logUrl, trust: trustFromRoot(json), rule, statePath, … }).

export { type CtPassOptions, ctMonitorPass } from './ct.js';
export {
  certificateCandidates,
  entryIdentities,
  type IdentityRule,
  identityOf,
  matchIdentity,
  mayMatch,
  type Prefilter,
  prefilterFor,
  type SignerIdentity,
  splitEntryBundle,
} from './entries.js';
export { type Match, monitorPass, type PassResult, SplitViewError } from './monitor.js';
export { EXIT_ALARM, EXIT_MATCH, type MonitorOptions, runMonitor } from './run.js';
export { loadState, type MonitorState, saveState } from './state.js';
export { trustFromKey, trustFromRoot } from './trust.js';
