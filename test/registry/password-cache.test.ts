// The registry remembers successful password checks (scrypt is slow), but never a failure, and a changed
// password invalidates what it remembered.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Authority } from '../../src/registry/auth.js';
import { addUser } from '../../src/registry/index.js';

describe('password check cache', () => {
  it('accepts a remembered password, refuses wrong ones, and forgets on a password change', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sigil-pwcache-'));
    await addUser(root, 'alice', 'first-password');
    const authority = await Authority.open(root, { service: 's', policy: { anonymousPull: true } });
    expect(await authority.authenticate('alice', 'first-password')).toBeDefined();
    expect(await authority.authenticate('alice', 'first-password')).toBeDefined();
    expect(await authority.authenticate('alice', 'wrong-password')).toBeUndefined();
    expect(await authority.authenticate('bob', 'first-password')).toBeUndefined();
    await addUser(root, 'alice', 'second-password');
    expect(await authority.authenticate('alice', 'first-password')).toBeUndefined();
    expect(await authority.authenticate('alice', 'second-password')).toBeDefined();
  });
});
