// The `tuf` service: the repository in DATA/tuf served under /tuf/, publishing the files it is given (in `sigil up`
// the trust files the CA writes to the data dir) as targets. It refreshes once the server listens (after the
// CA's started hook has written those files) and then every REFRESH_INTERVAL_MS: a changed file is re-published,
// metadata near expiry re-signed; an unchanged repository is not written to.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Service, ServiceContext } from '../service/index.js';
import { registerTufRoutes } from './http.js';
import { REFRESH_INTERVAL_MS } from './plan.js';
import { type TargetContent, TufRepository, type TufRepositoryOptions } from './repository.js';
import { REPOSITORY_DIR } from './store.js';

/** Where the repository and its keys live in the data dir. */
export const TUF_DIR = 'tuf';

/** The current root as published, the file to give clients for their first `initialize`. */
export const tufRootPath = (dataDir: string) => join(dataDir, TUF_DIR, REPOSITORY_DIR, 'root.json');

/** A target and the file it is read from at each refresh. */
export interface TargetSource {
  name: string;
  path: string;
}

export interface TufServiceOptions extends TufRepositoryOptions {
  targets: TargetSource[];
  refreshIntervalMs?: number;
}

/** The sources' current bytes; a file not written yet (a CA that has not started) is left out. */
export async function readTargets(sources: TargetSource[]): Promise<TargetContent[]> {
  const out: TargetContent[] = [];
  for (const s of sources) {
    try {
      out.push({ name: s.name, bytes: await readFile(s.path) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return out;
}

export function openTufRepository(
  dataDir: string,
  options: TufRepositoryOptions = {},
): Promise<TufRepository> {
  return TufRepository.open(join(dataDir, TUF_DIR), options);
}

export async function createTufService(ctx: ServiceContext, options: TufServiceOptions): Promise<Service> {
  const repo = await openTufRepository(ctx.dataDir, options);
  let log: FastifyBaseLogger | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let lastWarning = '';

  async function refresh(): Promise<void> {
    const targets = await readTargets(options.targets);
    const missing = options.targets.filter((s) => !targets.some((t) => t.name === s.name));
    const result = await repo.refresh(targets);
    const warning = [...missing.map((s) => `${s.path} does not exist yet`), ...result.warnings].join('; ');
    if (warning && warning !== lastWarning) log?.warn({ warning }, 'tuf repository');
    lastWarning = warning;
    if (result.published.length > 0) log?.info({ published: result.published }, 'tuf repository updated');
  }

  /** One refresh at a time; a tick that finds one running skips (the next tick catches up). */
  function tick(): void {
    running ??= refresh()
      .catch((err: unknown) => log?.error({ err }, 'tuf refresh failed'))
      .finally(() => {
        running = undefined;
      });
  }

  return {
    name: 'tuf',
    async register(app: FastifyInstance) {
      log = app.log;
      await registerTufRoutes(app, repo);
    },
    async started() {
      await refresh();
      timer = setInterval(tick, options.refreshIntervalMs ?? REFRESH_INTERVAL_MS);
      timer.unref();
    },
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
