// What the PostgreSQL backends share about connections: errors that mean "the database is unavailable right now"
// (a 503 to the client, never a 500), and LISTEN/NOTIFY, by which a frontend hears at once when another one
// committed something (a log's new head, a CT entry queued). Listening is best effort: a dropped connection is
// re-made after a second, and the callers poll as well.
import pg from 'pg';
import { StorageUnavailableError } from '../../log/index.js';

/** Connection attempts give up after this long, so nothing hangs on an unreachable database. */
export const CONNECT_TIMEOUT_MS = 3000;
/** How soon a dropped listener reconnects. */
const LISTEN_RETRY_MS = 1000;

/** Errors that mean the database cannot be reached right now (connection refused or lost, server restarting). */
function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(e.code))
      return true;
    // SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, cannot connect now).
    if (/^(08|57P)/.test(e.code)) return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    e?.message ?? '',
  );
}

/** A database error as the engines should see it: unavailability is StorageUnavailableError (HTTP 503). */
export function asStorageError(err: unknown): unknown {
  if (!isUnavailable(err)) return err;
  const why = (err as Error).message?.split('\n')[0] ?? String(err);
  return new StorageUnavailableError(`the database is unavailable (${why}); retry shortly`);
}

/** A client whose connection errors are handled by its user (never an unhandled 'error' event). */
export function newClient(url: string): pg.Client {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  c.on('error', () => {});
  return c;
}

/** Calls `heard(payload)` for each notification on `channel` until the returned function is called. */
export function listen(url: string, channel: string, heard: (payload: string) => void): () => void {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    if (stopped) return;
    const c = newClient(url);
    client = c;
    const again = () => {
      if (client !== c || stopped) return;
      client = undefined;
      retry = setTimeout(connect, LISTEN_RETRY_MS);
      retry.unref();
    };
    c.on('error', again);
    c.on('end', again);
    c.on('notification', (n) => heard(n.payload ?? ''));
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch {
      c.end().catch(() => {});
      again();
    }
  };
  void connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    client?.end().catch(() => {});
  };
}
