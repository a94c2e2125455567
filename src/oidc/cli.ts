// `sigil oidc ...`: manage who may request tokens from the CI issuer. `add-runner` binds a new request secret to
// a repository, workflow and ref and prints the two environment variables a job needs, exactly as GitHub Actions
// names them, so signing clients written for Actions run unchanged.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { TOKEN_PATH } from './issuer.js';
import { RunnerRegistry } from './runners.js';

/** `sigil up` exports SIGIL_DATA_DIR and SIGIL_URL; a shell that sourced DIR/env needs no flags. */
const dataDirDefault = () => process.env.SIGIL_DATA_DIR ?? '.sigil';

export function registerOidcCommands(program: Command): void {
  const oidc = program
    .command('oidc')
    .description('the CI identity issuer: runners and their request secrets');
  oidc
    .command('add-runner')
    .description('register a CI runner and print its token request secret (shown once)')
    .requiredOption('--repository <owner/name>', 'repository the runner builds')
    .requiredOption('--workflow <path>', 'workflow file, e.g. .github/workflows/release.yml')
    .requiredOption('--ref <ref>', 'git ref, e.g. refs/heads/main or refs/tags/v1.0.0')
    .option('--name <name>', 'a name for the runner (default: repository@ref)')
    .option('--job-workflow-ref <ref>', 'reusable workflow that signs, owner/repo/path@ref')
    .option('--environment <name>', 'deployment environment (changes the sub claim, as on GitHub)')
    .option('--sha <commit>', 'commit to report when the request URL has no &sha=')
    .option('--repository-id <id>', 'immutable repository id', '0')
    .option('--repository-owner-id <id>', 'immutable owner id', '0')
    .option('--visibility <v>', 'repository visibility', 'private')
    .option('--runner-environment <env>', 'runner_environment claim', 'self-hosted')
    .option('--data-dir <dir>', 'the issuer data dir (env SIGIL_DATA_DIR)', dataDirDefault())
    .option(
      '--url <base>',
      'the issuer base URL, for the printed ACTIONS_ID_TOKEN_REQUEST_URL (env SIGIL_URL)',
      process.env.SIGIL_URL ?? 'http://127.0.0.1:3000',
    )
    .action(async (o: Record<string, string | undefined>) => {
      const registry = new RunnerRegistry(resolve(String(o.dataDir)));
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
      // variables; assignments are never glob-expanded, so the URL's `?` needs no quoting.
      process.stdout.write(
        `# runner "${name}" registered. Give the job these (append &sha=<commit>&run_id=<id> per run):\n` +
          `ACTIONS_ID_TOKEN_REQUEST_URL=${base}${TOKEN_PATH}?api-version=2.0\n` +
          `ACTIONS_ID_TOKEN_REQUEST_TOKEN=${secret}\n` +
          'export ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN\n',
      );
    });
  oidc
    .command('list-runners')
    .description('list registered runners and the identity each may request')
    .option('--data-dir <dir>', 'the issuer data dir (env SIGIL_DATA_DIR)', dataDirDefault())
    .action(async (o: { dataDir: string }) => {
      const registry = new RunnerRegistry(resolve(o.dataDir));
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
      const removed = await new RunnerRegistry(resolve(o.dataDir)).remove(name);
      if (!removed) {
        process.stderr.write(`no runner named "${name}"\n`);
        process.exitCode = 1;
      }
    });
}
