// Image reference parsing: the distribution reference grammar, host detection, and errors that say what is wrong.
import { describe, expect, it } from 'vitest';
import {
  attestationTag,
  formatReference,
  manifestReference,
  OciError,
  parseReference,
  referrersTag,
  signatureTag,
} from '../../src/oci/index.js';

const D = `sha256:${'ab'.repeat(32)}`;

describe('parseReference', () => {
  it.each([
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['localhost:5000/team/app:1.0', { registry: 'localhost:5000', repository: 'team/app', tag: '1.0' }],
    ['registry.example.com/a/b/c', { registry: 'registry.example.com', repository: 'a/b/c' }],
    [`127.0.0.1:5000/app@${D}`, { registry: '127.0.0.1:5000', repository: 'app', digest: D }],
    [`ghcr.io/o/app:v1@${D}`, { registry: 'ghcr.io', repository: 'o/app', tag: 'v1', digest: D }],
    ['[::1]:5000/app:latest', { registry: '[::1]:5000', repository: 'app', tag: 'latest' }],
    ['r.io/a.b_c__d--e/f', { registry: 'r.io', repository: 'a.b_c__d--e/f' }],
    ['Registry.IO/app:Tag_1', { registry: 'Registry.IO', repository: 'app', tag: 'Tag_1' }],
  ])('parses %s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  // docker's and cosign's reading (distribution/reference normalize.go): no registry host means Docker Hub, and
  // a one-component name there is an official image under library/.
  it.each([
    ['busybox', { registry: 'docker.io', repository: 'library/busybox' }],
    ['library/busybox:1', { registry: 'docker.io', repository: 'library/busybox', tag: '1' }],
    ['acme/app', { registry: 'docker.io', repository: 'acme/app' }],
    ['docker.io/alpine:3', { registry: 'docker.io', repository: 'library/alpine', tag: '3' }],
    ['index.docker.io/acme/app', { registry: 'docker.io', repository: 'acme/app' }],
  ])('%s is on Docker Hub', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it('round-trips through formatReference and picks the digest over the tag for the manifest API', () => {
    const ref = parseReference(`ghcr.io/o/app:v1@${D}`);
    expect(formatReference(ref)).toBe(`ghcr.io/o/app:v1@${D}`);
    expect(manifestReference(ref)).toBe(D);
    expect(manifestReference(parseReference('ghcr.io/o/app'))).toBe('latest');
  });

  it.each([
    ['', /empty/],
    ['localhost:5000/App', /bad repository component "App"/],
    ['localhost:5000/app:-bad', /bad tag "-bad"/],
    [`localhost:5000/app:${'x'.repeat(129)}`, /bad tag/],
    ['localhost:5000/app@sha256:abc', /bad sha256 digest/],
    [`localhost:5000/app@md5:${'a'.repeat(32)}`, /unsupported digest algorithm "md5"/],
    ['localhost:99999/app', /bad port "99999"/],
    ['-bad.example.com/app', /bad registry host/],
    ['localhost:5000/a//b', /bad repository component ""/],
    ['localhost:5000/app name', /whitespace/],
    [`r.io/${'a'.repeat(260)}`, /longer than 255/],
    ['localhost:5000/', /empty repository name/],
  ])('rejects %j', (input, message) => {
    let caught: unknown;
    try {
      parseReference(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OciError);
    expect((caught as OciError).code).toBe('BAD_REFERENCE');
    expect((caught as Error).message).toMatch(message);
  });
});

describe('tag schemas', () => {
  it('derives the referrers tag (distribution-spec table) and cosign tags', () => {
    expect(referrersTag(`sha256:${'a'.repeat(64)}`)).toBe(`sha256-${'a'.repeat(64)}`);
    expect(referrersTag(`sha512:${'a'.repeat(128)}`)).toBe(`sha512-${'a'.repeat(64)}`);
    expect(
      referrersTag(
        'test+algorithm+using+algorithm+separators+and+lots+of+characters+to+excercise+overall+truncation:alsoSome=InTheEncodedSectionToShowHyphenReplacementAndLotsAndLotsOfCharactersToExcerciseEncodedTruncation',
      ),
    ).toBe(
      'test-algorithm-using-algorithm-s-alsoSome-InTheEncodedSectionToShowHyphenReplacementAndLotsAndLot',
    );
    expect(signatureTag(D)).toBe(`sha256-${'ab'.repeat(32)}.sig`);
    expect(attestationTag(D)).toBe(`sha256-${'ab'.repeat(32)}.att`);
    expect(() => signatureTag('latest')).toThrow(/not a digest/);
  });
});
