// How `sigil up` shows its server log. pino writes one JSON object a line, which suits a log collector (and is what
// `sigil up` writes when its output is not a terminal, or with --log-format json); on a terminal a person reads
// one short line a request instead ("12:00:01 POST /api/v1/log/entries 201 12ms"). --quiet drops the request
// lines in either form and keeps warnings and errors.
import { createServer } from 'node:net';

export type LogFormat = 'json' | 'pretty';

interface PinoLine {
  level?: number;
  time?: number;
  msg?: string;
  reqId?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  err?: { message?: string };
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const REQUEST_MESSAGES = new Set(['incoming request', 'request completed']);

/** --log-format: as given, else pretty on a terminal and JSON otherwise. */
export function chooseLogFormat(flag: string | undefined, isTty: boolean): LogFormat {
  if (flag === undefined) return isTty ? 'pretty' : 'json';
  if (flag !== 'json' && flag !== 'pretty')
    throw new Error(`--log-format must be json or pretty, not "${flag}"`);
  return flag;
}

function clock(ms: number | undefined): string {
  return new Date(ms ?? Date.now()).toISOString().slice(11, 19);
}

/** A pino destination that writes `format` to `out`, without request lines when `quiet`. */
export function logWriter(
  format: LogFormat,
  quiet: boolean,
  out: { write(s: string): unknown },
): { write(line: string): void } {
  const pending = new Map<string, string>();
  return {
    write(line: string) {
      let entry: PinoLine;
      try {
        entry = JSON.parse(line) as PinoLine;
      } catch {
        out.write(line);
        return;
      }
      const isRequest = entry.msg !== undefined && REQUEST_MESSAGES.has(entry.msg);
      if (quiet && isRequest) return;
      if (format === 'json') {
        out.write(line.endsWith('\n') ? line : `${line}\n`);
        return;
      }
      if (entry.msg === 'incoming request') {
        if (entry.reqId) pending.set(entry.reqId, `${entry.req?.method ?? ''} ${entry.req?.url ?? ''}`);
        return;
      }
      if (entry.msg === 'request completed') {
        const what = (entry.reqId && pending.get(entry.reqId)) || '';
        if (entry.reqId) pending.delete(entry.reqId);
        const ms = entry.responseTime === undefined ? '' : ` ${Math.round(entry.responseTime)}ms`;
        out.write(`${clock(entry.time)} ${what} ${entry.res?.statusCode ?? ''}${ms}\n`);
        return;
      }
      const level = LEVELS[entry.level ?? 30] ?? 'INFO';
      const err = entry.err?.message ? `: ${entry.err.message}` : '';
      out.write(`${clock(entry.time)} ${level === 'INFO' ? '' : `${level} `}${entry.msg ?? ''}${err}\n`);
    },
  };
}

/**
 * Listens on host:port and closes again: EADDRINUSE or EACCES come out here, before `sigil up` has written
 * anything to the data dir (the real listener comes later, so a race is possible but only fails later too).
 */
export function probeListen(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
