// The README sample machinery on small inputs: which block a sample belongs to, splitting one run's output per
// block, and what normalising hides (values that differ on every run) and keeps (image digests, everything else),
// since test/e2e/readme.test.ts is only as strict as these functions.
import { describe, expect, it } from 'vitest';
import {
  markedScript,
  normalise,
  render,
  samples,
  splitOutput,
  upBanner,
  withSamples,
} from './readme-samples.js';

const README = [
  '# x',
  '```sh',
  'npm ci && npx sigil up',
  '```',
  '```text',
  'sigil is up at http://127.0.0.1:3000',
  '```',
  '```sh',
  'echo one',
  '```',
  '```sh',
  'echo two',
  '```',
  'prose',
  '```text',
  'two',
  '```',
  '',
].join('\n');

describe('README samples', () => {
  it('pairs each text block with the sh block before it', () => {
    expect(samples(README).map((s) => [s.sh, s.text.body])).toEqual([
      [0, 'sigil is up at http://127.0.0.1:3000\n'],
      [2, 'two\n'],
    ]);
  });

  it('splits a marked run per block, stderr included', async () => {
    const { bash } = await import('./helpers.js');
    const script = markedScript(['ignored', 'echo one; echo err >&2', 'printf two'], 1);
    const run = await bash(script, { cwd: '/', env: process.env, timeoutMs: 10_000 });
    expect(run.code).toBe(0);
    expect([...splitOutput(run.output)]).toEqual([
      [1, 'one\nerr\n'],
      [2, 'two'],
    ]);
  });

  it('rewrites only the samples whose block printed something', () => {
    const next = withSamples(README, new Map([[2, 'TWO']]));
    expect(next).toBe(README.replace('```text\ntwo\n', '```text\nTWO\n'));
  });

  it('takes the banner of sigil up out of its request logs', () => {
    const out =
      '{"level":30}\nsigil is up at U\n  x\n\nFor a shell:\n  export A=1\n  export B=2\n{"level":30}\n';
    expect(upBanner(out)).toBe('sigil is up at U\n  x\n\nFor a shell:\n  export A=1\n  export B=2');
  });

  it('renders port and checkout as the README shows them and cuts long base64', () => {
    const cert = 'LS0t'.repeat(40);
    const text = render(`127.0.0.1:41234/acme /tmp/x/sigil/.sigil "${cert}"  \n\n`, {
      port: 41234,
      checkout: '/tmp/x/sigil',
    });
    expect(text).toBe(`127.0.0.1:3000/acme /tmp/sigil/.sigil "${cert.slice(0, 48)}…"`);
  });

  it('hides what differs per run and keeps image digests', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const a = [
      `image@${digest}`,
      `Root Hash: ${'1f'.repeat(32)}`,
      `UUID: ${'2e'.repeat(40)}`,
      'IntegratedTime: 2026-11-25T00:08:22Z',
      'TOKEN=sigil_runner_KEj7Up8f-_x',
      `"content": "MEYCIQC9XGZDJgW5urLCYligzsrW7bnTzGioC9ugog9RZbtgmgIhAMl56jPH"`,
      '127.0.0.1 - 157122908074229672',
    ].join('\n');
    const b = [
      `image@${digest}`,
      `Root Hash: ${'3c'.repeat(32)}`,
      `UUID: ${'4d'.repeat(40)}`,
      'IntegratedTime: 2027-01-01T10:00:00Z',
      'TOKEN=sigil_runner_other',
      `"content": "${'Q'.repeat(60)}"`,
      '127.0.0.1 - 42',
    ].join('\n');
    expect(normalise(a)).toBe(normalise(b));
    expect(normalise(a)).toContain(`image@${digest}`);
    // A moved image digest, or any other changed word, is a difference.
    expect(normalise(a.replace(digest, `sha256:${'cd'.repeat(32)}`))).not.toBe(normalise(b));
    expect(normalise(a.replace('image@', 'img@'))).not.toBe(normalise(b));
  });
});
