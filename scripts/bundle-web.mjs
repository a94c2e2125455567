// Builds the explorer's browser assets into dist/web/static/: the page script bundled from src/web/client/main.ts
// (one ES module, no CDN, nothing fetched at run time, so it works offline and air-gapped) beside the static
// index.html and stylesheet from src/web/static/. `sigil up` serves them (src/web/http.ts).
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

const OUT = 'dist/web/static';
await mkdir(OUT, { recursive: true });
await build({
  entryPoints: ['src/web/client/main.ts'],
  outfile: `${OUT}/explorer.js`,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  // WebCrypto's Ed25519 and the rest of what the page uses are in every current browser.
  target: 'es2022',
  minify: true,
  // A source map would be served from /explorer/ too; the sources are in the repository.
  sourcemap: false,
  logLevel: 'warning',
});
for (const f of ['index.html', 'explorer.css']) await copyFile(`src/web/static/${f}`, `${OUT}/${f}`);
