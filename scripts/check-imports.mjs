#!/usr/bin/env node
// The import rules of docs/architecture.md, checked on every `npm run lint`:
//   1. no import cycles between files of src/;
//   2. a component (src/<name>/) is entered only through its door, src/<name>/index.ts;
//   3. layers: shared modules (formats, merkle, crypto) import no component; services (log, ct, ca, oidc, tuf,
//      tsa, registry, web) import shared modules and the service contract only, never server/, cli/, another service's
//      internals or the client side; the client side (oci, sign, verify, trust, net, image) reaches services only
//      over HTTP, so it imports no service (monitor/ is client side too); only cli/ and demo/ import cli/ and server/; a storage backend
//      (src/storage/<backend>/) implements an engine's interface and only server/ chooses it.
// It reads `import … from '…'`, `export … from '…'` and `import('…')` with a literal path; type-only imports count
// too (a type still ties the two modules). Prints every violation and exits 1 if there is any.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const SRC = join(ROOT, 'src');

/** Which components each kind of component may import (besides itself). */
const SHARED = ['formats', 'merkle', 'crypto', 'limits', 'workers'];
// web/ is a service too: its http.ts is a Service serving static assets, and the page it serves (web/client/)
// reaches the other services only over HTTP from the browser, so it needs nothing but the service contract.
const SERVICES = ['log', 'ct', 'ca', 'oidc', 'tuf', 'tsa', 'registry', 'web'];
const CLIENT = ['oci', 'sign', 'verify', 'trust', 'net', 'image'];
const CONTRACT = ['service'];
const STORAGE = ['storage/sqlite', 'storage/files', 'storage/postgres'];
const allowed = (component) => {
  if (SHARED.includes(component)) return SHARED;
  if (CONTRACT.includes(component)) return [];
  // The CT log runs on the transparency log's Merkle engine (docs/design/log-api.md).
  if (component === 'ct') return [...SHARED, ...CONTRACT, 'log'];
  if (SERVICES.includes(component)) return [...SHARED, ...CONTRACT];
  // A storage backend implements an engine's storage interface, in that engine's terms.
  if (STORAGE.includes(component)) return [...SHARED, ...SERVICES];
  if (CLIENT.includes(component)) return [...SHARED, ...CLIENT];
  if (component === 'server') return [...SHARED, ...CONTRACT, ...SERVICES, ...CLIENT, ...STORAGE];
  // The identity monitor is client side: it follows logs over HTTP with verify/'s checks.
  if (component === 'monitor') return [...SHARED, ...CLIENT];
  // cli/ and demo/ compose everything.
  return undefined;
};

/**
 * Layer crossings that are known and have an issue that removes them; each must still occur (so the list only
 * shrinks), and nothing else may cross. Empty since server/ composes the CA with its CT log, issuer and trust
 * files (#16); kept for the next such exception.
 */
const KNOWN = {};
const seenKnown = new Set();

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function resolveImport(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec).replace(/\.js$/, '');
  for (const candidate of [`${base}.ts`, `${base}.mts`, join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {}
  }
  return undefined;
}

/** src/<name>/…, or src/storage/<backend>/… (each storage backend is a component of its own). */
const componentOf = (file) => {
  const parts = relative(SRC, file).split('/');
  return parts[0] === 'storage' && parts.length > 2
    ? `storage/${parts[1]}`
    : parts[0].replace(/\.(m?ts)$/, '');
};
const rel = (file) => relative(ROOT, file);

const graph = new Map();
const problems = [];
for (const file of files(SRC)) {
  const text = readFileSync(file, 'utf8');
  const edges = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    const target = resolveImport(file, spec);
    if (!target) continue;
    edges.push(target);
    const [from, to] = [componentOf(file), componentOf(target)];
    if (from === to) continue;
    if (target !== join(SRC, to, 'index.ts'))
      problems.push(`${rel(file)} imports ${rel(target)}: go through src/${to}/index.ts`);
    const may = allowed(from);
    if (may && !may.includes(to)) {
      if (KNOWN[`${from} -> ${to}`]) seenKnown.add(`${from} -> ${to}`);
      else problems.push(`${rel(file)} imports src/${to}/: ${from} may not depend on ${to}`);
    }
  }
  graph.set(file, edges);
}

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let index = 0;
const stack = [];
const state = new Map();
function strongConnect(v) {
  state.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!state.has(w)) {
      strongConnect(w);
      state.get(v).low = Math.min(state.get(v).low, state.get(w).low);
    } else if (state.get(w).onStack) state.get(v).low = Math.min(state.get(v).low, state.get(w).index);
  }
  if (state.get(v).low === state.get(v).index) {
    const scc = [];
    let w;
    do {
      w = stack.pop();
      state.get(w).onStack = false;
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) problems.push(`import cycle: ${scc.map(rel).sort().join(' → ')}`);
  }
}
for (const v of graph.keys()) if (!state.has(v)) strongConnect(v);
for (const k of Object.keys(KNOWN))
  if (!seenKnown.has(k))
    problems.push(`${k} no longer happens: remove it from KNOWN in scripts/check-imports.mjs`);

if (problems.length) {
  console.error(
    `${problems.length} import rule violation(s) (docs/architecture.md):\n  ${problems.join('\n  ')}`,
  );
  process.exit(1);
}
console.log(
  `imports: ${graph.size} files, no cycles, every component entered through its index.ts, layers kept` +
    ` (known crossings left: ${[...seenKnown].join(', ') || 'none'})`,
);
