// Test runner configuration: real servers on loopback make some tests slow, so timeouts are generous,
// and test files run in separate processes so a crash test cannot take the others down.
// Two projects: every suite on the embedded backend (SQLite), and the service suites again on PostgreSQL (#17),
// where test/pg/global-setup.ts starts one cluster and test/backend.ts gives each stack a database of its own.
import { defineConfig } from 'vitest/config';

/** The service suites that run on both backends: each service's API, the signing flows, the real clients. */
const SERVICE_SUITES = [
  'test/log/api.test.ts',
  'test/log/v2.test.ts',
  'test/log/interop.test.ts',
  'test/log/bad-input.test.ts',
  'test/ca/interop.test.ts',
  'test/ca/pool.test.ts',
  'test/registry/api.test.ts',
  'test/registry/auth.test.ts',
  'test/registry/bad-input.test.ts',
  'test/sign/image-e2e.test.ts',
  'test/sign/blob-interop.test.ts',
  'test/e2e/timestamps.test.ts',
  'test/cli/log.test.ts',
  'test/hostile/corpus.test.ts',
  'test/peers/cosign3.test.ts',
  'test/peers/rekor-cli.test.ts',
  'test/peers/sigstore-go.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'postgres', include: SERVICE_SUITES, globalSetup: ['test/pg/global-setup.ts'] },
      },
    ],
  },
});
