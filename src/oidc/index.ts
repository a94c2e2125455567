// Public interface of oidc/: the CI identity issuer (GitHub-Actions-shaped tokens, discovery, JWKS, the Actions
// token request protocol), its runner registry and its CLI verbs.
export { registerOidcCommands } from './cli.js';
export { oidcService, registerOidcRoutes } from './http.js';
export {
  CiIssuer,
  DEFAULT_TOKEN_AUDIENCE,
  DEV_TOKEN_PATH,
  githubShapedClaims,
  JWKS_PATH,
  OidcError,
  RUNS_PATH,
  type RunContext,
  TOKEN_LIFETIME_SECONDS,
  TOKEN_PATH,
} from './issuer.js';
export { RUNNERS_FILE, type RunnerIdentity, type RunnerRecord, RunnerRegistry } from './runners.js';
export { DEFAULT_RUN_TTL_SECONDS, RUNS_FILE, RunRegistry } from './runs.js';
