// `sigil oidc ...`: manage who may request tokens from the CI issuer. `add-runner` binds a new request secret to
// a repository, workflow and ref and prints the two environment variables a job needs, exactly as GitHub Actions
// names them, so signing clients written for Actions run unchanged.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { OidcError, startRunOf, TOKEN_PATH } from './issuer.js';
import { RunnerRegistry } from './runners.js';
import { DEFAULT_RUN_TTL_SECONDS, RunRegistry } from './runs.js';
import { fileOidcStores, type OpenOidcStores } from './stores.js';

/** `sigil up` exports SIGIL_DATA_DIR and SIGIL_URL; a shell that sourced DIR/env needs no flags. */
const dataDirDefault = () => process.env.SIGIL_DATA_DIR ?? '.sigil';

/** The two variables GitHub Actions gives a job, as a shell fragment `. ./file` can load. */
function jobEnv(base: string, secret: string): string {
  // Assignments are never glob-expanded, so the URL's `?` needs no quoting.
  return (
    `ACTIONS_ID_TOKEN_REQUEST_URL=${base}${TOKEN_PATH}?api-version=2.0\n` +
    `ACTIONS_ID_TOKEN_REQUEST_TOKEN=${secret}\n` +
    'export ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN\n'
  );
}

/** The options of the commands that print a job's variables: where the issuer keeps its data, and its URL. */
function jobEnvOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'the issuer data dir (env SIGIL_DATA_DIR)', dataDirDefault())
    .option(
      '--url <base>',
      'the issuer base URL, for the printed ACTIONS_ID_TOKEN_REQUEST_URL (env SIGIL_URL)',
      process.env.SIGIL_URL ?? 'http://127.0.0.1:3000',
    );
}

/** `openStores`: where runners and runs are kept for a data dir (server/ chooses: the files, or PostgreSQL). */
export function registerOidcCommands(program: Command, openStores: OpenOidcStores = fileOidcStores): void {
  const oidc = program
    .command('oidc')
    .description('the CI identity issuer: runners and their request secrets');
  jobEnvOptions(oidc.command('add-runner'))
    .description('register a CI runner and print its token request secret (shown once)')
    .requiredOption('--repository <owner/name>', 'repository the runner builds')
    .requiredOption('--workflow <path>', 'workflow file, e.g. .github/workflows/release.yml')
    .requiredOption('--ref <ref>', 'git ref, e.g. refs/heads/main or refs/tags/v1.0.0')
    .option('--name <name>', 'a name for the runner (default: repository@ref)')
    .option('--job-workflow-ref <ref>', 'reusable workflow that signs, owner/repo/path@ref')
    .option('--environment <name>', 'deployment environment (changes the sub claim, as on GitHub)')
    .option('--sha <commit>', 'the commit every token of this runner states (else each run names its own)')
    .option('--repository-id <id>', 'immutable repository id', '0')
    .option('--repository-owner-id <id>', 'immutable owner id', '0')
    .option('--visibility <v>', 'repository visibility', 'private')
    .option('--runner-environment <env>', 'runner_environment claim', 'self-hosted')
    .action(async (o: Record<string, string | undefined>) => {
      const registry = new RunnerRegistry(openStores(resolve(String(o.dataDir))).runners);
      const name = o.name ?? `${o.repository}@${o.ref}`;
      const secret = await registry.add(name, {
        repository: String(o.repository),
        workflow: String(o.workflow),
        ref: String(o.ref),
        jobWorkflowRef: o.jobWorkflowRef,
        environment: o.environment,
        sha: o.sha,
        repositoryId: o.repositoryId,
        repositoryOwnerId: o.repositoryOwnerId,
        repositoryVisibility: o.visibility,
        runnerEnvironment: o.runnerEnvironment,
      });
      const base = String(o.url).replace(/\/$/, '');
      // Printed as a shell fragment (a comment, two assignments, an export) so `. ./runner.env` gives a job the
      // variables.
      process.stdout.write(
        `# runner "${name}" registered. Give the job these (or, per run, the secret of \`sigil oidc start-run\`):\n${jobEnv(base, secret)}`,
      );
    });
  jobEnvOptions(oidc.command('start-run'))
    .description(
      "start a CI run of a runner: fix its commit, run id, attempt and event, and print the run's token request secret for the job",
    )
    .requiredOption('--runner <name>', 'the runner (see list-runners)')
    .option('--sha <commit>', "the run's commit (default: the runner's registered one)")
    .option('--run-id <n>', 'run_id claim (default: a fresh number)')
    .option('--run-number <n>', 'run_number claim', '1')
    .option('--run-attempt <n>', 'run_attempt claim', '1')
    .option('--event <name>', 'event_name claim', 'push')
    .option('--ttl <seconds>', "how long the run's secret works", String(DEFAULT_RUN_TTL_SECONDS))
    .action(async (o: Record<string, string | undefined>) => {
      const dataDir = resolve(String(o.dataDir));
      const runner = await new RunnerRegistry(openStores(dataDir).runners).findByName(String(o.runner));
      if (!runner) throw new Error(`no runner named "${o.runner}" (see sigil oidc list-runners)`);
      let secret: string;
      try {
        secret = await startRunOf(
          new RunRegistry(openStores(dataDir).runs),
          runner.name,
          runner.sha,
          {
            sha: o.sha,
            runId: o.runId,
            runNumber: o.runNumber,
            runAttempt: o.runAttempt,
            eventName: o.event,
          },
          Number(o.ttl),
        );
      } catch (err) {
        throw err instanceof OidcError ? new Error(err.message) : err;
      }
      const base = String(o.url).replace(/\/$/, '');
      process.stdout.write(`# run of "${runner.name}" started. Give the job these:\n${jobEnv(base, secret)}`);
    });
  oidc
    .command('list-runners')
    .description('list registered runners and the identity each may request')
    .option('--data-dir <dir>', 'the issuer data dir (env SIGIL_DATA_DIR)', dataDirDefault())
    .action(async (o: { dataDir: string }) => {
      const registry = new RunnerRegistry(openStores(resolve(o.dataDir)).runners);
      await registry.refresh();
      for (const r of registry.list())
        process.stdout.write(`${r.name}\t${r.repository}\t${r.workflow}\t${r.ref}\t${r.created}\n`);
    });
  oidc
    .command('remove-runner')
    .description('revoke a runner secret')
    .argument('<name>')
    .option('--data-dir <dir>', 'the issuer data dir (env SIGIL_DATA_DIR)', dataDirDefault())
    .action(async (name: string, o: { dataDir: string }) => {
      const removed = await new RunnerRegistry(openStores(resolve(o.dataDir)).runners).remove(name);
      if (!removed) {
        process.stderr.write(`no runner named "${name}"\n`);
        process.exitCode = 1;
      }
    });
}
