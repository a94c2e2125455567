// `sigil monitor`: runs monitor passes from a state file, once (--once, for cron and CI) or every interval, and
// reports: each match as a text line or a JSON line on stdout (and POSTed as JSON to --webhook), a split view as an
// alarm. The exit code says what happened: 0 nothing matched, 1 a watched identity signed, 2 the log is not
// consistent (or its checkpoint does not verify) — an alarm outranks a match.
import { request } from '../net/index.js';
import type { TrustedLog, TrustMaterial } from '../verify/index.js';
import { ctMonitorPass } from './ct.js';
import type { IdentityRule } from './entries.js';
import { type Match, monitorPass, type PassResult, SplitViewError } from './monitor.js';
import { loadState, saveState } from './state.js';

export const EXIT_MATCH = 1;
export const EXIT_ALARM = 2;

export interface MonitorOptions {
  /** The tiles prefix, or with `ct` the CT log's URL prefix (before /ct/v1/). */
  logUrl: string;
  /** Follow an RFC 6962 CT log whose tree heads these CT logs' keys sign, instead of a tiles log. */
  ct?: { logs: TrustedLog[] };
  trust: (origin: string) => TrustMaterial;
  rule: IdentityRule;
  statePath: string;
  once: boolean;
  json: boolean;
  webhook?: string;
  intervalMs?: number;
  /** Where reports go (stdout); errors go to `err`. */
  out: (line: string) => void;
  err: (line: string) => void;
  /** Stops a following monitor (tests, SIGINT). */
  signal?: AbortSignal;
}

type Event =
  | ({ event: 'match'; log: string } & Match)
  | { event: 'checkpoint'; log: string; from: number; to: number; scanned: number; bundles: number }
  | { event: 'alarm'; log: string; message: string };

function text(e: Event): string {
  switch (e.event) {
    case 'match':
      return `MATCH ${e.log} index ${e.index}: ${e.identity}${e.issuer ? ` (issuer ${e.issuer})` : ''} entry ${e.leafHash}`;
    case 'checkpoint':
      return e.from === e.to
        ? `${e.log}: no new entries (size ${e.to})`
        : `${e.log}: verified checkpoint ${e.from} → ${e.to}, ${e.scanned} entries scanned from ${e.bundles} ${e.log.startsWith('CT log ') ? 'get-entries pages' : 'entry bundles'}`;
    case 'alarm':
      return `ALARM ${e.log}: ${e.message}`;
  }
}

async function report(o: MonitorOptions, e: Event): Promise<void> {
  (e.event === 'alarm' ? o.err : o.out)(o.json ? JSON.stringify(e) : text(e));
  if (o.webhook && e.event !== 'checkpoint') {
    try {
      const res = await request(o.webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(e),
        timeoutMs: 30_000,
      });
      if (res.status >= 300) o.err(`webhook ${o.webhook} answered HTTP ${res.status}`);
    } catch (err) {
      o.err(`webhook ${o.webhook} failed: ${(err as Error).message}`);
    }
  }
}

/** One pass with its reports; the exit code it calls for. The state is saved only after a verified pass. */
async function pass(o: MonitorOptions): Promise<number> {
  const state = await loadState(o.statePath);
  if (state && state.logUrl !== o.logUrl)
    throw new Error(`${o.statePath} is the state of ${state.logUrl}, not ${o.logUrl}`);
  let r: PassResult;
  try {
    r = o.ct
      ? await ctMonitorPass({ ctUrl: o.logUrl, logs: o.ct.logs, rule: o.rule, state })
      : await monitorPass({ logUrl: o.logUrl, trust: o.trust, rule: o.rule, state });
  } catch (err) {
    const isAlarm = err instanceof SplitViewError || (err as { code?: string }).code === 'CHECKPOINT_INVALID';
    if (!isAlarm) throw err;
    await report(o, { event: 'alarm', log: state?.origin ?? o.logUrl, message: (err as Error).message });
    return EXIT_ALARM;
  }
  for (const m of r.matches) await report(o, { event: 'match', log: r.origin, ...m });
  await report(o, {
    event: 'checkpoint',
    log: r.origin,
    from: r.from,
    to: r.to,
    scanned: r.entriesScanned,
    bundles: r.bundlesFetched,
  });
  if (r.to !== r.from || !state) await saveState(o.statePath, r.state);
  return r.matches.length ? EXIT_MATCH : 0;
}

/** Runs until --once is done or the signal aborts; returns the exit code (the worst seen). */
export async function runMonitor(o: MonitorOptions): Promise<number> {
  let worst = 0;
  for (;;) {
    const code = await pass(o);
    worst = Math.max(worst, code);
    // A split view does not heal: stop following at the first alarm.
    if (o.once || code === EXIT_ALARM || o.signal?.aborted) return worst;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, o.intervalMs ?? 30_000);
      o.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
    if (o.signal?.aborted) return worst;
  }
}
