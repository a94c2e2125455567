// From verified token claims to what the certificate says: the Subject Alternative Name, the challenge the proof
// of possession must sign, and the Fulcio extensions, exactly as fulcio maps them (docs/oid-info.md;
// config/identity/config.yaml ci-issuer-metadata for github-workflow and gitlab-pipeline; pkg/identity/{email,
// uri,kubernetes,username}/principal.go; pkg/certificate/extensions.go for order and encoding).
import { utf8 } from '../formats/index.js';
import type { Extension, SubjectAltName } from './certificate.js';
import { CaError } from './errors.js';

export type IssuerType = 'github-workflow' | 'gitlab-pipeline' | 'email' | 'uri' | 'kubernetes' | 'username';
export const ISSUER_TYPES: IssuerType[] = [
  'github-workflow',
  'gitlab-pipeline',
  'email',
  'uri',
  'kubernetes',
  'username',
];

export interface IssuerConfig {
  issuerUrl: string;
  type: IssuerType;
  /** Expected `aud`; Fulcio's client-id, `sigstore` by default. */
  clientId: string;
  /** uri: the scheme+host subjects must live under; username: the domain appended after `!`. */
  subjectDomain?: string;
  /** email: accept tokens whose email_verified is not true (Fulcio skip-email-verification). */
  skipEmailVerification?: boolean;
  /**
   * CI types: the template values of Fulcio's ci-issuer-metadata, e.g. `url` for a self-hosted forge. They are the
   * operator's, not the token's: a `url` claim never changes the SAN (a job could otherwise name any forge).
   */
  defaults?: Record<string, string>;
  /**
   * Who this issuer may vouch for here: patterns over the repository (`owner/repo`, `owner/*`) for CI issuers, the
   * email (`dev@example.com`, `*@example.com`) for email issuers, the SAN for the others. Absent: anyone the issuer
   * names. Required for the public issuers (config.ts PUBLIC_ISSUERS), which name anyone in the world.
   */
  allow?: string[];
}

export interface Principal {
  /** The proof-of-possession challenge: `email` for email issuers, `sub` otherwise (fulcio issuerToChallengeClaim). */
  challenge: string;
  san: SubjectAltName;
  extensions: Extension[];
}

const P = '1.3.6.1.4.1.57264.1.';

/** fulcio ciprovider mapValuesToString: numbers without a fractional part print as integers. */
function claimString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? value.toFixed(0) : String(value);
  if (typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function required(claims: Record<string, unknown>, name: string): string {
  const v = claimString(claims[name]);
  if (!v) throw new CaError(401, `the identity token is missing the required claim "${name}"`);
  return v;
}

/** Extensions 1.1–1.6 hold raw bytes (a historical mistake Fulcio keeps); 1.8 on are DER UTF8String. */
const raw = (n: number, value: string): Extension => ({ oid: P + n, value: Buffer.from(value, 'utf8') });
const der = (n: number, value: string): Extension => ({ oid: P + n, value: utf8(value) });

/**
 * pkg/certificate Extensions.Render: 1.1, then the deprecated GitHub 1.2–1.6, then 1.8 onward in number order,
 * empty values left out, and the raw `sub` in 1.24.
 */
function render(
  issuer: string,
  subject: string,
  deprecated: Record<number, string>,
  v2: Record<number, string>,
) {
  const exts: Extension[] = [raw(1, issuer)];
  for (const n of [2, 3, 4, 5, 6]) if (deprecated[n]) exts.push(raw(n, deprecated[n]));
  exts.push(der(8, issuer));
  for (let n = 9; n <= 23; n++) if (v2[n]) exts.push(der(n, v2[n]));
  if (subject) exts.push(der(24, subject));
  return exts;
}

function checkUri(value: string, what: string): string {
  // The SAN is an IA5String: 7-bit ASCII, and it must parse as a URI.
  if (!/^[\x21-\x7e]+$/.test(value)) throw new CaError(400, `${what} must be ASCII without spaces: ${value}`);
  try {
    new URL(value);
  } catch {
    throw new CaError(400, `${what} is not a valid URI: ${value}`);
  }
  return value;
}

/** GitHub Actions (config.yaml ci-issuer-metadata github-workflow). */
function githubWorkflow(
  iss: string,
  c: Record<string, unknown>,
  defaults: Record<string, string>,
): Principal {
  const sub = required(c, 'sub');
  const url = defaults.url ?? 'https://github.com';
  const get = (k: string) => required(c, k);
  const [jobWorkflowRef, repository, owner, workflowRef] = [
    get('job_workflow_ref'),
    get('repository'),
    get('repository_owner'),
    get('workflow_ref'),
  ];
  const values = {
    event: get('event_name'),
    sha: get('sha'),
    workflow: get('workflow'),
    ref: get('ref'),
    jobWorkflowSha: get('job_workflow_sha'),
    runnerEnvironment: get('runner_environment'),
    repositoryId: get('repository_id'),
    ownerId: get('repository_owner_id'),
    workflowSha: get('workflow_sha'),
    runId: get('run_id'),
    runAttempt: get('run_attempt'),
    visibility: get('repository_visibility'),
    environment: claimString(c.environment) ?? defaults.environment ?? '',
  };
  const signer = checkUri(`${url}/${jobWorkflowRef}`, 'the build signer URI');
  return {
    challenge: sub,
    san: { type: 'uri', value: signer },
    extensions: render(
      iss,
      sub,
      { 2: values.event, 3: values.sha, 4: values.workflow, 5: repository, 6: values.ref },
      {
        9: signer,
        10: values.jobWorkflowSha,
        11: values.runnerEnvironment,
        12: `${url}/${repository}`,
        13: values.sha,
        14: values.ref,
        15: values.repositoryId,
        16: `${url}/${owner}`,
        17: values.ownerId,
        18: `${url}/${workflowRef}`,
        19: values.workflowSha,
        20: values.event,
        21: `${url}/${repository}/actions/runs/${values.runId}/attempts/${values.runAttempt}`,
        22: values.visibility,
        23: values.environment,
      },
    ),
  };
}

/** GitLab CI (config.yaml ci-issuer-metadata gitlab-pipeline). */
function gitlabPipeline(
  iss: string,
  c: Record<string, unknown>,
  defaults: Record<string, string>,
): Principal {
  const sub = required(c, 'sub');
  const url = defaults.url ?? 'https://gitlab.com';
  const get = (k: string) => required(c, k);
  const configRefUri = `https://${get('ci_config_ref_uri')}`;
  const refType = get('ref_type');
  const projectPath = get('project_path');
  const values = {
    configSha: get('ci_config_sha'),
    runnerEnvironment: get('runner_environment'),
    sha: get('sha'),
    ref: `refs/${refType === 'branch' ? 'heads/' : 'tags/'}${get('ref')}`,
    projectId: get('project_id'),
    namespacePath: get('namespace_path'),
    namespaceId: get('namespace_id'),
    pipelineSource: get('pipeline_source'),
    jobId: get('job_id'),
    visibility: get('project_visibility'),
    environment: claimString(c.environment) ?? defaults.environment ?? '',
  };
  checkUri(configRefUri, 'ci_config_ref_uri');
  return {
    challenge: sub,
    san: { type: 'uri', value: configRefUri },
    extensions: render(
      iss,
      sub,
      {},
      {
        9: configRefUri,
        10: values.configSha,
        11: values.runnerEnvironment,
        12: `${url}/${projectPath}`,
        13: values.sha,
        14: values.ref,
        15: values.projectId,
        16: `${url}/${values.namespacePath}`,
        17: values.namespaceId,
        18: configRefUri,
        19: values.configSha,
        20: values.pipelineSource,
        21: `${url}/${projectPath}/-/jobs/${values.jobId}`,
        22: values.visibility,
        23: values.environment,
      },
    ),
  };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function email(iss: string, c: Record<string, unknown>, cfg: IssuerConfig): Principal {
  const sub = required(c, 'sub');
  const address = required(c, 'email');
  if (!cfg.skipEmailVerification && c.email_verified !== true)
    throw new CaError(401, 'the identity token says email_verified is not true');
  if (!EMAIL.test(address) || !/^[\x21-\x7e]+$/.test(address))
    throw new CaError(400, `the email address in the token is not valid: ${address}`);
  return { challenge: address, san: { type: 'email', value: address }, extensions: render(iss, sub, {}, {}) };
}

function uri(iss: string, c: Record<string, unknown>, cfg: IssuerConfig): Principal {
  const sub = required(c, 'sub');
  if (EMAIL.test(sub)) throw new CaError(400, 'uri subject should not be an email address');
  let subject: URL;
  let domain: URL;
  try {
    subject = new URL(sub);
    domain = new URL(cfg.subjectDomain ?? '');
  } catch {
    throw new CaError(400, `the token subject is not a URI: ${sub}`);
  }
  if (subject.protocol !== domain.protocol || subject.hostname !== domain.hostname)
    throw new CaError(400, `the subject URI ${sub} is not under ${cfg.subjectDomain}`);
  checkUri(sub, 'the subject');
  return { challenge: sub, san: { type: 'uri', value: sub }, extensions: render(iss, sub, {}, {}) };
}

function kubernetes(iss: string, c: Record<string, unknown>): Principal {
  const sub = required(c, 'sub');
  const k8s = c['kubernetes.io'] as { namespace?: unknown; serviceaccount?: { name?: unknown } } | undefined;
  const ns = typeof k8s?.namespace === 'string' ? k8s.namespace : '';
  const sa = typeof k8s?.serviceaccount?.name === 'string' ? k8s.serviceaccount.name : '';
  if (!ns || !sa)
    throw new CaError(
      401,
      'the identity token is missing kubernetes.io namespace / serviceaccount.name claims',
    );
  const value = checkUri(
    `https://kubernetes.io/namespaces/${ns}/serviceaccounts/${sa}`,
    'the service account',
  );
  return { challenge: sub, san: { type: 'uri', value }, extensions: render(iss, sub, {}, {}) };
}

function username(iss: string, c: Record<string, unknown>, cfg: IssuerConfig): Principal {
  const sub = required(c, 'sub');
  if (sub.includes('!')) throw new CaError(400, 'username cannot contain the ! character');
  if (EMAIL.test(sub)) throw new CaError(400, 'username subject should not be an email address');
  return {
    challenge: sub,
    san: { type: 'otherName', value: `${sub}!${cfg.subjectDomain}` },
    extensions: render(iss, sub, {}, {}),
  };
}

/** Maps verified claims from an allowed issuer to the certificate's identity. */
export function principalFromClaims(cfg: IssuerConfig, claims: Record<string, unknown>): Principal {
  const iss = required(claims, 'iss');
  switch (cfg.type) {
    case 'github-workflow':
      return githubWorkflow(iss, claims, cfg.defaults ?? {});
    case 'gitlab-pipeline':
      return gitlabPipeline(iss, claims, cfg.defaults ?? {});
    case 'email':
      return email(iss, claims, cfg);
    case 'uri':
      return uri(iss, claims, cfg);
    case 'kubernetes':
      return kubernetes(iss, claims);
    case 'username':
      return username(iss, claims, cfg);
  }
}

/** `*` stands for any run of characters other than `/`; everything else is literal. */
function globMatches(pattern: string, value: string): boolean {
  const re = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${re}$`).test(value);
}

/** The value an issuer's `allow` patterns are matched against. */
function allowSubject(cfg: IssuerConfig, claims: Record<string, unknown>, principal: Principal): string {
  if (cfg.type === 'github-workflow') return claimString(claims.repository) ?? '';
  if (cfg.type === 'gitlab-pipeline') return claimString(claims.project_path) ?? '';
  return principal.san.value;
}

/** Refuses (403) an identity the issuer's `allow` list does not name; no list means the issuer may name anyone. */
export function checkAllowed(cfg: IssuerConfig, claims: Record<string, unknown>, principal: Principal): void {
  if (!cfg.allow) return;
  const who = allowSubject(cfg, claims, principal);
  if (!cfg.allow.some((p) => globMatches(p, who)))
    throw new CaError(403, `${who || 'this identity'} is not on this CA's allow-list for ${cfg.issuerUrl}`);
}

/** fulcio.proto OIDCIssuer.challenge_claim. */
export function challengeClaim(type: IssuerType): string {
  return type === 'email' ? 'email' : 'sub';
}
