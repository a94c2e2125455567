// The explorer as a sigil service: serves the page and its two bundled assets (built by scripts/bundle-web.mjs into
// dist/web/static/) at `/` and `/explorer/…`, under a Content-Security-Policy that allows only this origin's script,
// style and API calls (no inline script, no eval, no framing). It opens no other service: the page reads the logs
// over their public HTTP APIs from the browser, so the explorer works against whatever `sigil up` composes.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import type { Service } from '../service/index.js';

/** Where `npm run build` puts the assets: ROOT/dist/web/static, from src/web/ (tsx) and dist/web/ alike. */
export const WEB_ASSET_DIR = fileURLToPath(new URL('../../dist/web/static/', import.meta.url));

/** Nothing but this origin's own files and APIs; `'none'` for everything the page does not use. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'explorer.js': 'text/javascript; charset=utf-8',
  'explorer.css': 'text/css; charset=utf-8',
};

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-cache');
}

/** The explorer service; `assetDir` defaults to the built assets. Assets are read once, on first request. */
export function createWebService(o: { assetDir?: string } = {}): Service {
  const dir = o.assetDir ?? WEB_ASSET_DIR;
  const cache = new Map<string, Buffer>();
  const asset = async (name: string): Promise<Buffer | undefined> => {
    const hit = cache.get(name);
    if (hit) return hit;
    try {
      const data = await readFile(`${dir}${name}`);
      cache.set(name, data);
      return data;
    } catch {
      return undefined;
    }
  };
  const serve = async (name: string, reply: FastifyReply) => {
    const data = await asset(name);
    if (!data)
      return secure(reply)
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(`the explorer's assets are not built (${name} is missing from ${dir}): run npm run build\n`);
    return secure(reply).type(ASSETS[name]).send(data);
  };
  return {
    name: 'web',
    async register(app) {
      app.get('/', (_req, reply) => serve('index.html', reply));
      app.get('/explorer/:file', (req, reply) => {
        const file = (req.params as { file: string }).file;
        if (!Object.hasOwn(ASSETS, file) || file === 'index.html')
          return secure(reply).code(404).type('text/plain; charset=utf-8').send('not found\n');
        return serve(file, reply);
      });
    },
    async close() {},
  };
}
