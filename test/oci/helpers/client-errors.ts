// Shared by the OCI client's auth tests: the error a client call fails with, and an environment in which the
// client finds no credential files (so only the credentials a test passes count).
import { expect } from 'vitest';
import { OciError } from '../../../src/oci/index.js';

/** The OciError `p` rejects with; the test fails if it resolves or rejects with anything else. */
export async function errorOf(p: Promise<unknown>): Promise<OciError> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(OciError);
  return err as OciError;
}

/** No docker config.json or containers auth.json is found under a HOME that does not exist. */
export const noFiles = { HOME: '/nonexistent' };
