// Per-run token request secrets: whoever starts a CI run (an administrator with `sigil oidc start-run`, or the CI
// controller over `POST /oidc/runs` with the runner's secret) fixes that run's commit, run id, attempt and event,
// and gets a short-lived secret that the job uses as ACTIONS_ID_TOKEN_REQUEST_TOKEN. The job can then ask for
// tokens for exactly that run of exactly that runner's workflow, and can set none of those values itself: they
// become certificate extensions (1.3, 1.19-1.21 …) that verifiers trust. `<dataDir>/oidc/runs.json` keeps only
// each secret's SHA-256, and expired runs are dropped whenever the file is written.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RecordStore } from './record-file.js';

/** A run's secret works this long: GitHub's longest job on a self-hosted runner is 5 days, a usual one minutes. */
export const DEFAULT_RUN_TTL_SECONDS = 6 * 3600;
export const MAX_RUN_TTL_SECONDS = 5 * 24 * 3600;
export const RUN_SECRET_PREFIX = 'sigil_run_';

/** The values of one run that its tokens state. */
export interface RunValues {
  sha: string;
  runId: string;
  runNumber: string;
  runAttempt: string;
  eventName: string;
}

export interface RunRecord extends RunValues {
  /** The runner (by name) whose identity the run's tokens carry. */
  runner: string;
  secretSha256: string;
  created: string;
  expires: string;
}

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** Checks values as GitHub writes them; throws with the field that is wrong. */
export function validateRunValues(v: Partial<RunValues>): void {
  if (v.sha !== undefined && !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(v.sha))
    throw new Error('sha must be a full hex commit id');
  for (const [k, value] of Object.entries({
    run_id: v.runId,
    run_number: v.runNumber,
    run_attempt: v.runAttempt,
  }))
    if (value !== undefined && !/^[0-9]{1,19}$/.test(value)) throw new Error(`${k} must be a decimal number`);
  if (v.eventName !== undefined && !/^[a-z_]{1,64}$/.test(v.eventName))
    throw new Error('event_name must be a GitHub event name like push or workflow_dispatch');
}

export class RunRegistry {
  constructor(private readonly store: RecordStore<RunRecord>) {}

  /** Starts a run of `runner` and returns its secret (shown once). */
  async start(runner: string, values: RunValues, ttlSeconds = DEFAULT_RUN_TTL_SECONDS): Promise<string> {
    validateRunValues(values);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > MAX_RUN_TTL_SECONDS)
      throw new Error(`the run's lifetime must be 60 to ${MAX_RUN_TTL_SECONDS} seconds`);
    const now = Date.now();
    const secret = `${RUN_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record: RunRecord = {
      runner,
      ...values,
      secretSha256: hashSecret(secret),
      created: new Date(now).toISOString(),
      expires: new Date(now + ttlSeconds * 1000).toISOString(),
    };
    // Expired runs leave the list as new ones are started.
    await this.store.update((records) => [...records.filter((r) => Date.parse(r.expires) > now), record]);
    return secret;
  }

  /** The unexpired run whose secret this is; constant-time comparison of the hashes. */
  async find(secret: string): Promise<RunRecord | undefined> {
    const h = Buffer.from(hashSecret(secret), 'hex');
    const now = Date.now();
    return (await this.store.load()).find((r) => {
      const stored = Buffer.from(r.secretSha256, 'hex');
      return stored.length === h.length && timingSafeEqual(stored, h) && Date.parse(r.expires) > now;
    });
  }
}
