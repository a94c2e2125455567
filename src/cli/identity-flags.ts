// cosign's keyless identity flags (`--certificate-identity[-regexp]`, `--certificate-oidc-issuer[-regexp]`, the
// five `--certificate-github-workflow-*` claims), shared by `verify`, `verify-attestation` and `verify-blob`.
import type { Command } from 'commander';
import type { IdentityPolicy } from '../verify/index.js';

export interface IdentityFlags {
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  certificateGithubWorkflowTrigger?: string;
  certificateGithubWorkflowSha?: string;
  certificateGithubWorkflowName?: string;
  certificateGithubWorkflowRepository?: string;
  certificateGithubWorkflowRef?: string;
}

export function addIdentityFlags(cmd: Command): Command {
  return cmd
    .option('--certificate-identity <name>', 'the identity expected in a keyless certificate (SAN)')
    .option('--certificate-identity-regexp <re>', 'a regular expression the certificate identity must match')
    .option('--certificate-oidc-issuer <url>', 'the OIDC issuer expected in a keyless certificate')
    .option('--certificate-oidc-issuer-regexp <re>', 'a regular expression the OIDC issuer must match')
    .option('--certificate-github-workflow-trigger <v>', 'expected GitHub workflow trigger (event name)')
    .option('--certificate-github-workflow-sha <v>', 'expected GitHub workflow commit SHA')
    .option('--certificate-github-workflow-name <v>', 'expected GitHub workflow name')
    .option('--certificate-github-workflow-repository <v>', 'expected GitHub repository (owner/name)')
    .option('--certificate-github-workflow-ref <v>', 'expected GitHub ref, e.g. refs/heads/main');
}

/** The flags as given, one policy field each (callers decide how exact and regexp forms combine). */
export function identityPolicyFromFlags(f: IdentityFlags): IdentityPolicy {
  return {
    subjectAlternativeName: f.certificateIdentity,
    subjectAlternativeNameRegExp: f.certificateIdentityRegexp,
    issuer: f.certificateOidcIssuer,
    issuerRegExp: f.certificateOidcIssuerRegexp,
    githubWorkflowTrigger: f.certificateGithubWorkflowTrigger,
    githubWorkflowSha: f.certificateGithubWorkflowSha,
    githubWorkflowName: f.certificateGithubWorkflowName,
    githubWorkflowRepository: f.certificateGithubWorkflowRepository,
    githubWorkflowRef: f.certificateGithubWorkflowRef,
  };
}
