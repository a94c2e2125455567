// The demo's script as data, and the parsers for what each step prints: the steps a newcomer types to take the
// example project from source to a verified, logged, keylessly signed image. Pure functions; src/demo/run.ts runs
// them as `sigil` child processes.

/** The example's GitHub identity: the workflow in examples/django-keyless/.github/workflows/. */
export const DEMO_REPOSITORY = 'acme/django-keyless';
export const DEMO_WORKFLOW = '.github/workflows/docker-publish.yml';
export const DEMO_REF = 'refs/heads/main';

/** What Fulcio puts in the certificate's SAN for a GitHub workflow: `https://github.com/<workflow_ref>`. */
export function workflowIdentity(repository: string, workflow = DEMO_WORKFLOW, ref = DEMO_REF): string {
  return `https://github.com/${repository}/${workflow}@${ref}`;
}

/** One command of the walkthrough: why, then the `sigil` arguments (the program name is implied). */
export interface Step {
  title: string;
  args: string[];
  /** Extra environment for this step only, shown as exports before the command. */
  env?: Record<string, string>;
  /** A step that must fail (the tampered image): success is the demo's failure. */
  expectFailure?: boolean;
}

export interface WalkthroughInput {
  dataDir: string;
  url: string;
  registry: string;
  exampleDir: string;
  /** A different directory, built and pushed to the same tag to show a moved tag failing verification. */
  impostorDir: string;
  repository: string;
  commit: string;
}

export function imageTag(registry: string, repository: string): string {
  return `${registry}/${repository}:latest`;
}

/** Steps 2–3: build and push; register the workflow's runner (what an administrator does once). */
export function preparationSteps(w: WalkthroughInput): Step[] {
  return [
    {
      title: 'Build the example into an OCI image and push it to the registry',
      args: ['image', 'build', w.exampleDir, '-t', imageTag(w.registry, w.repository)],
    },
    {
      title: `Register a CI runner for ${w.repository}'s workflow: it gets the two variables GitHub Actions gives a job`,
      args: [
        'oidc',
        'add-runner',
        '--repository',
        w.repository,
        '--workflow',
        DEMO_WORKFLOW,
        '--ref',
        DEMO_REF,
        '--sha',
        w.commit,
      ],
    },
  ];
}

/** Steps 4–8: sign as the workflow's job, verify by identity, inspect the log, then try a moved tag. */
export function signingSteps(
  w: WalkthroughInput,
  image: string,
  runnerEnv: Record<string, string>,
  logIndex: () => number,
): { sign: Step; rest: () => Step[] } {
  const tag = imageTag(w.registry, w.repository);
  const verify = [
    'verify',
    tag,
    '--certificate-identity',
    workflowIdentity(w.repository),
    '--certificate-oidc-issuer',
    w.url,
    '--output',
    'text',
  ];
  return {
    sign: {
      title: 'Sign keylessly, as the workflow job would: Actions token -> short-lived certificate -> log',
      args: ['sign', '--yes', image],
      env: runnerEnv,
    },
    rest: () => [
      { title: "Verify the tag against the workflow's identity and our issuer", args: verify },
      {
        title: 'Fetch the entry from the transparency log',
        args: ['log', 'get', '--log-index', String(logIndex())],
      },
      {
        title: 'Prove the entry is in the log: inclusion proof up to a signed checkpoint',
        args: ['log', 'verify', '--log-index', String(logIndex())],
      },
      {
        title: 'Someone re-points the tag at another image...',
        args: ['image', 'build', w.impostorDir, '-t', tag],
      },
      { title: '...and verification of the tag fails', args: verify, expectFailure: true },
    ],
  };
}

/** `sigil image build` prints `REF@sha256:…` on stdout. */
export function parseBuiltImage(stdout: string): string {
  const m = /^(\S+@sha256:[0-9a-f]{64})$/m.exec(stdout);
  if (!m) throw new Error(`sigil image build printed no REF@sha256:… line:\n${stdout}`);
  return m[1];
}

/** `sigil oidc add-runner` prints the job's ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN as shell assignments. */
export function parseRunnerEnv(stdout: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of stdout.matchAll(/^(?:export\s+)?(ACTIONS_ID_TOKEN_REQUEST_(?:URL|TOKEN))=(\S+)$/gm)) {
    env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)
    throw new Error(`sigil oidc add-runner printed no ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN:\n${stdout}`);
  return env;
}

/** `sigil sign` reports the log entry as cosign does: `tlog entry created with index: N`. */
export function parseLogIndex(output: string): number {
  const m = /tlog entry created with index: (\d+)/.exec(output);
  if (!m) throw new Error(`sigil sign reported no transparency log entry:\n${output}`);
  return Number(m[1]);
}

/** Quotes a word for display as a POSIX shell command. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

export function commandLine(args: string[]): string {
  return ['sigil', ...args].map(shellWord).join(' ');
}
