// Public interface of oidc/: the CI identity issuer (GitHub-Actions-shaped tokens, discovery, JWKS, the Actions
// token request protocol), its runner registry and its CLI verbs.
export { registerOidcCommands } from './cli.js';
export { oidcService, registerOidcRoutes } from './http.js';
export { CiIssuer, githubShapedClaims, TOKEN_PATH } from './issuer.js';
export { type RecordStore, RUNS_FILE } from './record-file.js';
export { RunnerRegistry } from './runners.js';
export { fileOidcStores, type OpenOidcStores } from './stores.js';
