// describePostgres: a suite that needs PostgreSQL runs only where it is installed, and fails in CI (CI=true)
// where it is not (.ci/run installs it).
import { describe, it } from 'vitest';
import { postgresBin } from './cluster.js';

/** A suite that needs PostgreSQL: skipped where it is not installed, failing in CI where it must be. */
export function describePostgres(title: string, body: () => void): void {
  if (postgresBin()) describe(title, body);
  else if (process.env.CI)
    describe(title, () => {
      it('needs PostgreSQL', () => {
        throw new Error('PostgreSQL is not installed: .ci/run installs Debian’s postgresql package');
      });
    });
  else describe.skip(`${title} (PostgreSQL not installed)`, body);
}
