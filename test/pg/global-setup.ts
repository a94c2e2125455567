// Global setup of the `postgres` vitest project: one throwaway PostgreSQL cluster for every stack of the run
// (test/backend.ts gives each stack a database of its own), torn down at the end.
import type { TestProject } from 'vitest/node';
import { postgresBin, startPostgres } from './cluster.js';

export default async function setup(project: TestProject) {
  if (!postgresBin()) {
    if (process.env.CI)
      throw new Error('PostgreSQL is not installed: .ci/run installs Debian’s postgresql package');
    // Without PostgreSQL (a developer's machine) the project's suites run on SQLite again.
    project.provide('postgresAdmin', '');
    return;
  }
  const cluster = await startPostgres();
  project.provide('postgresAdmin', cluster.url.replace(/\/sigil$/, '/postgres'));
  return () => cluster.destroy();
}
