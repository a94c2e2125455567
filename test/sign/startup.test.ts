// `sigil sign` loads sign/ and never the verifier: verify/ brings the trust-root parser (@sigstore/protobuf-specs)
// with it, which signing does not need (docs/design/sign-flows.md "Start-up time"). Walks the static imports from
// sign/index.ts; dynamic imports are loaded on use only, and `import type` not at all.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?'([^']+)';/gms)) {
    out.push(m[1]);
  }
  return out;
}

function moduleGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.endsWith('.ts')) return;
    for (const spec of staticImports(file)) {
      visit(spec.startsWith('.') ? join(dirname(file), spec.replace(/\.js$/, '.ts')) : spec);
    }
  };
  visit(entry);
  return new Set([...seen].map((f) => (f.startsWith('/') ? relative(ROOT, f) : f)));
}

describe('start-up cost of sign/', () => {
  it('does not load the verifier or the trust-root parser', () => {
    const graph = [...moduleGraph(join(ROOT, 'src/sign/index.ts'))];
    expect(graph).toContain('src/oci/index.ts');
    expect(graph.filter((m) => m.startsWith('src/verify/') || m.startsWith('src/trust/'))).toEqual([]);
    expect(graph.filter((m) => m.startsWith('@sigstore/'))).toEqual([]);
  });
});
