// Public interface of net/: the one outgoing HTTP client of the CLI side (OCI registries, CA, log, OIDC token
// and trust-root servers), over node:http/https so that client verbs never load fetch (undici).
export { HttpRequestError, HttpResponse, MAX_REDIRECTS, type ResponseHeaders, request } from './client.js';
