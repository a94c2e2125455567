// The demo's parsers read what the real CLI prints; these pin the shapes they accept and reject, so a change in
// a command's output fails here with a clear message instead of deep inside `sigil demo`.
import { describe, expect, it } from 'vitest';
import {
  commandLine,
  parseBuiltImage,
  parseLogIndex,
  parseRunnerEnv,
  workflowIdentity,
} from '../../src/demo/index.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('demo walkthrough parsers', () => {
  it('finds the pushed image reference among progress lines', () => {
    expect(parseBuiltImage(`sha256:1234… 612 B/612 B done\nr.io/a/b:latest@${DIGEST}\n`)).toBe(
      `r.io/a/b:latest@${DIGEST}`,
    );
    expect(() => parseBuiltImage('r.io/a/b:latest\n')).toThrow(/REF@sha256/);
    expect(() => parseBuiltImage(`r.io/a/b@sha256:${'ab'.repeat(31)}\n`)).toThrow();
  });

  it("reads the runner's two Actions variables, quoted or not, and insists on both", () => {
    const out =
      '# runner "x" registered\nACTIONS_ID_TOKEN_REQUEST_URL=http://h:1/oidc/token?api-version=2.0\n' +
      "export ACTIONS_ID_TOKEN_REQUEST_TOKEN='sigil_runner_abc'\n";
    expect(parseRunnerEnv(out)).toEqual({
      ACTIONS_ID_TOKEN_REQUEST_URL: 'http://h:1/oidc/token?api-version=2.0',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'sigil_runner_abc',
    });
    expect(() => parseRunnerEnv('ACTIONS_ID_TOKEN_REQUEST_URL=http://h/x\n')).toThrow(/TOKEN/);
  });

  it("reads cosign's log index line and fails without one", () => {
    expect(parseLogIndex('Using a token\ntlog entry created with index: 17\nPushing')).toBe(17);
    expect(() => parseLogIndex('Skipping the transparency log upload')).toThrow(/no transparency log entry/);
  });

  it('names the workflow identity as Fulcio does and shows commands as a shell would', () => {
    expect(workflowIdentity('acme/django-keyless')).toBe(
      'https://github.com/acme/django-keyless/.github/workflows/docker-publish.yml@refs/heads/main',
    );
    expect(commandLine(['verify', 'a b', "it's"])).toBe(`sigil verify 'a b' 'it'\\''s'`);
  });
});
