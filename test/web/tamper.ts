// A tampered view of a log for the explorer's and the monitor's tests: an HTTP proxy in front of a real stack that
// passes everything through except what `rewrite` changes (e.g. one hash of every inclusion proof flipped), so the
// page or the monitor must notice from the data alone.
import { createServer, request, type Server } from 'node:http';

export interface Tamper {
  url: string;
  close(): Promise<void>;
}

/** `rewrite(path, body)` returns the body to serve instead, or undefined to pass it through unchanged. */
export async function tamperingProxy(
  target: string,
  rewrite: (path: string, body: Buffer) => Buffer | undefined,
): Promise<Tamper> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            const original = Buffer.concat(body);
            const changed = rewrite(req.url ?? '/', original);
            const headers = { ...up.headers };
            delete headers['content-length'];
            delete headers['transfer-encoding'];
            res.writeHead(up.statusCode ?? 502, headers);
            res.end(changed ?? original);
          });
        },
      );
      out.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Flips the last hex digit of the first hash of every inclusion proof in a Rekor v1 entry answer. */
export function flipProofHash(body: Buffer): Buffer | undefined {
  const text = body.toString('utf8');
  const changed = text.replace(
    /("hashes":\["[0-9a-f]{63})([0-9a-f])/g,
    (_m, head: string, last: string) => `${head}${last === '0' ? '1' : '0'}`,
  );
  return changed === text ? undefined : Buffer.from(changed);
}
