// The CI identity issuer engine, without HTTP: an OpenID provider for local and self-hosted CI that mints ID
// tokens shaped like GitHub Actions' (every claim Fulcio maps for github-workflow; see GitHub's "OIDC token
// claims" reference), signed ES256 with a key kept in the data dir and published as a JWKS (RFC 7517).
// Identities come from registered runners; any identity only in dev mode.
import { createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, type JWK, SignJWT } from 'jose';
import { loadOrCreatePrivateKey } from '../crypto/index.js';
import { type RunnerIdentity, RunnerRegistry } from './runners.js';
import { RUN_SECRET_PREFIX, RunRegistry, type RunValues, validateRunValues } from './runs.js';
import { fileOidcStores, type OidcRecordStores, type OpenOidcStores } from './stores.js';

export const TOKEN_PATH = '/oidc/token';
export const DEV_TOKEN_PATH = '/oidc/dev/token';
export const JWKS_PATH = '/.well-known/jwks';
export const DEFAULT_TOKEN_AUDIENCE = 'sigstore';
/** GitHub's tokens are short-lived too; a signing job asks for one right before it needs it. */
export const TOKEN_LIFETIME_SECONDS = 10 * 60;

export class OidcError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** With a 429: when to try again (sent as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Per-run values a token states: fixed when the run starts (runs.ts), never taken from the job's request. */
export interface RunContext {
  sha?: string;
  runId?: string;
  runNumber?: string;
  runAttempt?: string;
  eventName?: string;
}

const AUDIENCE_RE = /^[\x21-\x7e]{1,256}$/;

/** GitHub Actions' ID token claims for a run of `id` (sub format: repo:R:ref:REF or repo:R:environment:E). */
export function githubShapedClaims(id: RunnerIdentity, run: RunContext): Record<string, unknown> {
  const [owner] = id.repository.split('/');
  const sha = run.sha ?? id.sha;
  if (!sha)
    throw new OidcError(
      400,
      "this runner has no fixed commit: start a run for it (`sigil oidc start-run --runner NAME --sha COMMIT`, or POST /oidc/runs) and give the job that run's secret",
    );
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha))
    throw new OidcError(400, 'sha must be a full hex commit id');
  for (const [k, v] of Object.entries({
    run_id: run.runId,
    run_number: run.runNumber,
    run_attempt: run.runAttempt,
  }))
    if (v !== undefined && !/^[0-9]{1,19}$/.test(v))
      throw new OidcError(400, `${k} must be a decimal number`);
  if (run.eventName !== undefined && !/^[a-z_]{1,64}$/.test(run.eventName))
    throw new OidcError(400, 'event_name must be a GitHub event name like push or workflow_dispatch');
  const workflowRef = `${id.repository}/${id.workflow}@${id.ref}`;
  const jobWorkflowRef = id.jobWorkflowRef ?? workflowRef;
  const refType = id.ref.startsWith('refs/tags/') ? 'tag' : 'branch';
  const runId = run.runId ?? String(Date.now());
  return {
    jti: randomUUID(),
    sub: id.environment
      ? `repo:${id.repository}:environment:${id.environment}`
      : `repo:${id.repository}:ref:${id.ref}`,
    ...(id.environment ? { environment: id.environment } : {}),
    ref: id.ref,
    ref_type: refType,
    ref_protected: 'false',
    sha,
    repository: id.repository,
    repository_id: id.repositoryId ?? '0',
    repository_owner: owner,
    repository_owner_id: id.repositoryOwnerId ?? '0',
    repository_visibility: id.repositoryVisibility ?? 'private',
    run_id: runId,
    run_number: run.runNumber ?? '1',
    run_attempt: run.runAttempt ?? '1',
    runner_environment: id.runnerEnvironment ?? 'self-hosted',
    actor: id.actor ?? owner,
    actor_id: id.repositoryOwnerId ?? '0',
    workflow: id.workflowName ?? id.workflow.split('/').pop() ?? id.workflow,
    head_ref: '',
    base_ref: '',
    event_name: run.eventName ?? 'push',
    workflow_ref: workflowRef,
    workflow_sha: sha,
    job_workflow_ref: jobWorkflowRef,
    job_workflow_sha: sha,
  };
}

export const RUNS_PATH = '/oidc/runs';

/** A run's full values: the commit from the request or the runner's registration, the rest defaulted as GitHub's. */
export async function startRunOf(
  runs: RunRegistry,
  runner: string,
  registeredSha: string | undefined,
  values: Partial<RunValues>,
  ttlSeconds?: number,
): Promise<string> {
  const sha = values.sha ?? registeredSha;
  if (!sha) throw new OidcError(400, 'a run needs its commit: sha');
  const full: RunValues = {
    sha,
    runId: values.runId ?? String(Date.now()),
    runNumber: values.runNumber ?? '1',
    runAttempt: values.runAttempt ?? '1',
    eventName: values.eventName ?? 'push',
  };
  try {
    validateRunValues(full);
    return await runs.start(runner, full, ttlSeconds);
  } catch (err) {
    if (err instanceof OidcError) throw err;
    throw new OidcError(400, (err as Error).message);
  }
}

export class CiIssuer {
  readonly runners: RunnerRegistry;
  readonly runs: RunRegistry;
  private jwk?: JWK;

  private constructor(
    private readonly key: KeyObject,
    private readonly kid: string,
    stores: OidcRecordStores,
    /** The issuer URL (`iss`), which is the server's base URL: known only once it listens. */
    private readonly issuerUrl: () => string,
    readonly devMode: boolean,
  ) {
    this.runners = new RunnerRegistry(stores.runners);
    this.runs = new RunRegistry(stores.runs);
  }

  /** `stores`: where runners and runs are kept (server/ chooses; the data dir's files by default). */
  static async open(
    dataDir: string,
    issuerUrl: () => string,
    opts: { devMode?: boolean; stores?: OpenOidcStores } = {},
  ) {
    await mkdir(join(dataDir, 'oidc'), { recursive: true });
    const key = await loadOrCreatePrivateKey(join(dataDir, 'oidc', 'issuer-key.pem'), 'ecdsa-p256');
    const kid = await calculateJwkThumbprint(await exportJWK(createPublicKey(key)));
    const stores = (opts.stores ?? fileOidcStores)(dataDir);
    return new CiIssuer(key, kid, stores, issuerUrl, opts.devMode === true);
  }

  get issuer(): string {
    return this.issuerUrl();
  }

  /** OpenID Connect Discovery 1.0 §3 provider metadata, with the fields GitHub's issuer publishes. */
  discovery(): Record<string, unknown> {
    const base = this.issuer;
    return {
      issuer: base,
      jwks_uri: `${base}${JWKS_PATH}`,
      subject_types_supported: ['public', 'pairwise'],
      response_types_supported: ['id_token'],
      claims_supported: [
        'sub',
        'aud',
        'exp',
        'iat',
        'iss',
        'jti',
        'nbf',
        'ref',
        'sha',
        'repository',
        'repository_id',
        'repository_owner',
        'repository_owner_id',
        'repository_visibility',
        'run_id',
        'run_number',
        'run_attempt',
        'runner_environment',
        'actor',
        'actor_id',
        'workflow',
        'workflow_ref',
        'workflow_sha',
        'job_workflow_ref',
        'job_workflow_sha',
        'event_name',
        'environment',
        'ref_type',
        'head_ref',
        'base_ref',
      ],
      id_token_signing_alg_values_supported: ['ES256'],
      scopes_supported: ['openid'],
    };
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    this.jwk ??= { ...(await exportJWK(createPublicKey(this.key))), kid: this.kid, alg: 'ES256', use: 'sig' };
    return { keys: [this.jwk] };
  }

  /** Signs a token with the given claims for `audience`. */
  async mint(claims: Record<string, unknown>, audience: string): Promise<string> {
    if (!AUDIENCE_RE.test(audience)) throw new OidcError(400, 'audience must be 1-256 printable characters');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: this.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + TOKEN_LIFETIME_SECONDS)
      .sign(this.key);
  }

  /**
   * The GitHub token request. The bearer secret is a run's (its runner's identity plus the values fixed when the run
   * started) or a runner's own (its identity and the commit it was registered with). The request itself may set
   * only the audience: a job that could name its commit, run or event could forge the certificate's claims.
   */
  async tokenForRunner(secret: string | undefined, audience: string, requested: RunContext): Promise<string> {
    if (!secret) throw new OidcError(401, 'send the runner request secret as Authorization: bearer <secret>');
    const asked = Object.entries(requested).filter(([, v]) => v !== undefined);
    if (asked.length > 0)
      throw new OidcError(
        400,
        `the token request cannot set ${asked.map(([k]) => k).join(', ')}: a run's values are fixed when it starts (sigil oidc start-run)`,
      );
    if (secret.startsWith(RUN_SECRET_PREFIX)) {
      const run = await this.runs.find(secret);
      if (!run) throw new OidcError(401, 'the run request secret is unknown or has expired');
      const runner = await this.runners.findByName(run.runner);
      if (!runner) throw new OidcError(401, `the run's runner "${run.runner}" has been removed`);
      return this.mint(githubShapedClaims(runner, run), audience);
    }
    const runner = await this.runners.find(secret);
    if (!runner) throw new OidcError(401, 'the runner request secret is not registered with this issuer');
    return this.mint(githubShapedClaims(runner, {}), audience);
  }

  /**
   * Starts a run of the runner whose secret this is (the CI controller's side, not the job's): returns the run's
   * secret for the job. `values` are checked as GitHub writes them.
   */
  async startRun(
    runnerSecret: string | undefined,
    values: Partial<RunValues>,
    ttlSeconds?: number,
  ): Promise<{ secret: string; runner: string }> {
    if (!runnerSecret)
      throw new OidcError(401, 'send the runner request secret as Authorization: bearer <secret>');
    const runner = await this.runners.find(runnerSecret);
    if (!runner) throw new OidcError(401, 'the runner request secret is not registered with this issuer');
    return {
      secret: await startRunOf(this.runs, runner.name, runner.sha, values, ttlSeconds),
      runner: runner.name,
    };
  }

  /** Dev mode only: a token for whatever identity the caller names (GitHub-shaped, plus raw claim overrides). */
  async devToken(
    identity: RunnerIdentity,
    run: RunContext,
    overrides: Record<string, unknown>,
    audience: string,
  ) {
    if (!this.devMode)
      throw new OidcError(
        403,
        'dev tokens are disabled; set "oidcDevMode": true in ca-config.json to allow them',
      );
    const claims = { ...githubShapedClaims(identity, run), ...overrides };
    return this.mint(claims, audience);
  }
}
