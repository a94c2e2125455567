// Who may ask the CI issuer for a token, and for which identity: `<dataDir>/oidc/runners.json` binds each
// runner's request secret (stored only as its SHA-256) to a repository, workflow and ref. The file is re-read
// when it changes, so `sigil oidc add-runner` takes effect without a restart.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RecordStore } from './record-file.js';

/** The identity bound to a runner secret: everything a GitHub Actions token says about repository and workflow. */
export interface RunnerIdentity {
  /** `owner/name`. */
  repository: string;
  /** Path of the workflow file in the repository, e.g. `.github/workflows/release.yml`. */
  workflow: string;
  /** Full git ref, e.g. `refs/heads/main` or `refs/tags/v1.0.0`. */
  ref: string;
  /** A reusable workflow that does the signing, `owner/repo/path@ref`; the workflow itself when absent. */
  jobWorkflowRef?: string;
  /** Deployment environment; when set the `sub` claim names it instead of the ref (GitHub's format). */
  environment?: string;
  repositoryId?: string;
  repositoryOwnerId?: string;
  repositoryVisibility?: string;
  runnerEnvironment?: string;
  workflowName?: string;
  /** Commit to report when the token request does not name one. */
  sha?: string;
  actor?: string;
}

export interface RunnerRecord extends RunnerIdentity {
  name: string;
  secretSha256: string;
  created: string;
}

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

function validateIdentity(id: RunnerIdentity): void {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(id.repository))
    throw new Error(`repository must look like owner/name, got "${id.repository}"`);
  if (!id.workflow || id.workflow.startsWith('/') || id.workflow.includes('@'))
    throw new Error(`workflow must be a path inside the repository, got "${id.workflow}"`);
  if (!/^refs\/(heads|tags|pull)\/\S+$/.test(id.ref))
    throw new Error(`ref must be a full git ref like refs/heads/main, got "${id.ref}"`);
  if (id.sha !== undefined && !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(id.sha))
    throw new Error('sha must be a full hex commit id');
}

export class RunnerRegistry {
  private records: RunnerRecord[] = [];

  constructor(private readonly store: RecordStore<RunnerRecord>) {}

  /** Reads the runners again (a file only if it changed since the last read). */
  async refresh(): Promise<void> {
    this.records = await this.store.load();
  }

  list(): RunnerRecord[] {
    return this.records.map((r) => ({ ...r }));
  }

  /** The runner whose secret this is; constant-time comparison of the hashes. */
  async find(secret: string): Promise<RunnerRecord | undefined> {
    await this.refresh();
    const h = Buffer.from(hashSecret(secret), 'hex');
    return this.records.find((r) => {
      const stored = Buffer.from(r.secretSha256, 'hex');
      return stored.length === h.length && timingSafeEqual(stored, h);
    });
  }

  async findByName(name: string): Promise<RunnerRecord | undefined> {
    await this.refresh();
    return this.records.find((r) => r.name === name);
  }

  /** Registers a runner and returns its request secret (shown once; only its hash is kept). */
  async add(name: string, identity: RunnerIdentity): Promise<string> {
    validateIdentity(identity);
    const secret = `sigil_runner_${randomBytes(32).toString('base64url')}`;
    const record = { name, ...identity, secretSha256: hashSecret(secret), created: new Date().toISOString() };
    await this.store.update((records) => {
      if (records.some((r) => r.name === name)) throw new Error(`a runner named "${name}" already exists`);
      return [...records, record];
    });
    return secret;
  }

  async remove(name: string): Promise<boolean> {
    let removed = false;
    await this.store.update((records) => {
      const kept = records.filter((r) => r.name !== name);
      removed = kept.length !== records.length;
      return kept;
    });
    return removed;
  }
}
