// A cached bearer token serves any request whose scopes it covers, and only those.
import { describe, expect, it } from 'vitest';
import { coveringToken } from '../../src/oci/transport.js';

describe('coveringToken', () => {
  const live = Date.now() + 60_000;
  const tokens = new Map([
    ['repository:team/app:pull,push', { token: 'push', expiresAt: live }],
    ['repository:team/old:pull', { token: 'expired', expiresAt: Date.now() - 1 }],
  ]);
  it('uses a pull,push token for a pull on the same repository', () => {
    expect(coveringToken(tokens, ['repository:team/app:pull'])?.token).toBe('push');
    expect(coveringToken(tokens, ['repository:team/app:push,pull'])?.token).toBe('push');
  });
  it('never for another repository, a wider action, or an expired token', () => {
    expect(coveringToken(tokens, ['repository:team/other:pull'])).toBeUndefined();
    expect(coveringToken(tokens, ['repository:team/app:delete'])).toBeUndefined();
    expect(coveringToken(tokens, ['repository:team/app:pull', 'repository:team/b:pull'])).toBeUndefined();
    expect(coveringToken(tokens, ['repository:team/old:pull'])).toBeUndefined();
  });
});
