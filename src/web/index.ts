// Public interface of web/: the explorer's HTTP adapter (a Service serving the built page) — the page itself is
// src/web/client/, bundled for the browser by scripts/bundle-web.mjs and imported by nothing on the server.
export { createWebService } from './http.js';
