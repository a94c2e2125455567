// The backend the test stacks run on (#17: the service suites run against both). SQLite in the default vitest
// project; PostgreSQL in the `postgres` project (vitest.config.ts), whose global setup (test/pg/global-setup.ts)
// starts one throwaway cluster. There each stack gets a database of its own, so stacks never see each other's
// logs, and a stack started again on the same data dir (a restart test) gets the same one back.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { RunnerRegistry } from '../src/oidc/index.js';
import { oidcStores } from '../src/server/index.js';

const byDataDir = new Map<string, string>();

/**
 * The database for a stack on `dataDir`, or undefined on SQLite. It is also made the process's choice
 * (SIGIL_DATABASE_URL, as `--database` makes it), which the in-process services read when they are created.
 */
export async function stackDatabase(dataDir: string): Promise<string | undefined> {
  const admin = inject('postgresAdmin');
  if (!admin) return undefined;
  let url = byDataDir.get(dataDir);
  if (!url) {
    const name = `stack_${randomBytes(6).toString('hex')}`;
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
    url = admin.replace(/\/[^/]*$/, `/${name}`);
    byDataDir.set(dataDir, url);
  }
  process.env.SIGIL_DATABASE_URL = url;
  return url;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The `postgres` project's cluster (its `postgres` database), or '' in the SQLite project. */
    postgresAdmin: string;
  }
}

/** The CI issuer's runner registry of the stack on `dataDir`, on that stack's backend. */
export async function stackRunners(dataDir: string): Promise<RunnerRegistry> {
  await stackDatabase(dataDir);
  return new RunnerRegistry(oidcStores()(dataDir).runners);
}
