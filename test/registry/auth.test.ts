// The bearer-token flow (distribution docs/spec/auth/token.md) and every rule it enforces, each with a negative
// case: credentials, token signature/algorithm/issuer/audience/expiry, scope per repository and action, anonymous
// pull policy (off by default), mounts needing pull on the source, catalog access (users only), upload sessions
// bound to the user who opened them, and the users file holding only hashes.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { addUser, registryRoot } from '../../src/registry/index.js';
import { errorCode, json, pushBlob, sha256, startRegistry, type TestRegistry } from './helpers.js';

const ALICE = 'alice:alice-password';
const BOB = 'bob:bob-password!';

let reg: TestRegistry;
let base: string;
let root: string;

function basic(creds: string): string {
  return `Basic ${Buffer.from(creds).toString('base64')}`;
}

async function token(creds: string | undefined, ...scopes: string[]): Promise<string> {
  const params = new URLSearchParams({ service: 'sigil-registry' });
  for (const s of scopes) params.append('scope', s);
  const res = await fetch(`${base}/v2/token?${params}`, {
    headers: creds ? { authorization: basic(creds) } : {},
  });
  expect(res.status).toBe(200);
  return (await json(res)).token;
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function pushWith(repo: string, t: string): Promise<Response> {
  return fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: bearer(t) });
}

beforeAll(async () => {
  reg = await startRegistry({});
  base = reg.url;
  root = registryRoot(reg.dataDir);
  await addUser(root, 'alice', 'alice-password');
  await addUser(root, 'bob', 'bob-password!', [{ repository: 'bob/*', actions: ['pull', 'push'] }]);
});
afterAll(async () => {
  await reg.stop();
});

describe('challenge', () => {
  it('answers unauthenticated pushes with a Bearer challenge naming realm, service and scope', async () => {
    const res = await fetch(`${base}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('UNAUTHORIZED');
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer realm="${base}/v2/token",service="sigil-registry",scope="repository:team/app:pull,push"`,
    );
  });

  it('challenges /v2/ without a token and accepts it with one', async () => {
    const res = await fetch(`${base}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer realm="${base}/v2/token",service="sigil-registry"`,
    );
    const ok = await fetch(`${base}/v2/`, { headers: bearer(await token(ALICE)) });
    expect(ok.status).toBe(200);
  });

  it('refuses Basic credentials sent to the registry itself (tokens only)', async () => {
    const res = await fetch(`${base}/v2/team/app/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: basic(ALICE) },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });
});

describe('token endpoint', () => {
  it('issues a token with the intersection of asked and held access', async () => {
    const res = await fetch(
      `${base}/v2/token?service=sigil-registry&scope=repository:bob/app:pull,push,delete&scope=repository:other/app:push`,
      { headers: { authorization: basic(BOB) } },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await json(res);
    expect(body.token).toBe(body.access_token);
    expect(body.expires_in).toBeGreaterThanOrEqual(60);
    // bob holds nothing on other/app, and anonymous pull is off by default: that scope is left out, not an error.
    expect(body.scope).toBe('repository:bob/app:pull,push');
  });

  it('refuses a wrong password, an unknown user and malformed credentials with 401', async () => {
    for (const authorization of [
      basic('alice:nope'),
      basic('mallory:alice-password'),
      'Basic !!!',
      'Bearer abc',
    ]) {
      const res = await fetch(`${base}/v2/token?scope=repository:a:push`, { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(await errorCode(res)).toBe('UNAUTHORIZED');
    }
  });

  it('refuses tokens for another service', async () => {
    const res = await fetch(`${base}/v2/token?service=evil&scope=repository:a:pull`, {
      headers: { authorization: basic(ALICE) },
    });
    expect(res.status).toBe(400);
  });

  it('accepts the OAuth2 password grant (POST) and refuses other grants', async () => {
    const form = new URLSearchParams({
      grant_type: 'password',
      username: 'alice',
      password: 'alice-password',
      service: 'sigil-registry',
      scope: 'repository:team/app:pull,push',
      client_id: 'test',
    });
    const res = await fetch(`${base}/v2/token`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    const t = (await json(res)).access_token;
    expect((await pushWith('team/app', t)).status).toBe(202);
    const refresh = await fetch(`${base}/v2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'x',
        service: 'sigil-registry',
      }),
    });
    expect(refresh.status).toBe(400);
    const wrong = await fetch(`${base}/v2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'bad' }),
    });
    expect(wrong.status).toBe(401);
  });
});

describe('scopes', () => {
  it('lets a token push only where it grants push', async () => {
    const t = await token(ALICE, 'repository:team/app:pull,push');
    expect((await pushWith('team/app', t)).status).toBe(202);
    const elsewhere = await pushWith('team/other', t);
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('keeps pull-only tokens from pushing', async () => {
    const t = await token(ALICE, 'repository:team/app:pull');
    expect((await pushWith('team/app', t)).status).toBe(401);
  });

  it('limits users to their repository patterns', async () => {
    const t = await token(BOB, 'repository:bob/x:push', 'repository:team/app:push');
    expect((await pushWith('bob/x', t)).status).toBe(202);
    expect((await pushWith('team/app', t)).status).toBe(401);
    expect((await pushWith('bobby/x', await token(BOB, 'repository:bobby/x:push'))).status).toBe(401);
  });

  it('requires the delete action to delete', async () => {
    const repo = 'team/del';
    const push = await token(ALICE, `repository:${repo}:pull,push`);
    const digest = await pushBlob(base, repo, Buffer.from('to delete'), bearer(push));
    const noDelete = await fetch(`${base}/v2/${repo}/blobs/${digest}`, {
      method: 'DELETE',
      headers: bearer(push),
    });
    expect(noDelete.status).toBe(401);
    const bobDelete = await token(BOB, `repository:${repo}:delete`);
    expect(
      (await fetch(`${base}/v2/${repo}/blobs/${digest}`, { method: 'DELETE', headers: bearer(bobDelete) }))
        .status,
    ).toBe(401);
    const del = await token(ALICE, `repository:${repo}:delete`);
    expect(
      (await fetch(`${base}/v2/${repo}/blobs/${digest}`, { method: 'DELETE', headers: bearer(del) })).status,
    ).toBe(202);
  });
});

describe('forged and stale tokens', () => {
  async function forge(opts: {
    key?: Uint8Array;
    alg?: string;
    iss?: string;
    aud?: string;
    exp?: number;
    access?: unknown;
  }) {
    const key = opts.key ?? (await readFile(join(root, 'token-key')));
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      access: opts.access ?? [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }],
    })
      .setProtectedHeader({ alg: opts.alg ?? 'HS256' })
      .setIssuer(opts.iss ?? 'sigil-registry')
      .setAudience(opts.aud ?? 'sigil-registry')
      .setSubject('alice')
      .setIssuedAt(now - 1000)
      .setExpirationTime(opts.exp ?? now + 300)
      .sign(key);
  }

  it('accepts a correctly signed token (control)', async () => {
    expect((await pushWith('team/app', await forge({}))).status).toBe(202);
  });

  it.each([
    ['signed with another key', { key: new Uint8Array(32).fill(7) }],
    ['expired', { exp: Math.floor(Date.now() / 1000) - 10 }],
    ['for another audience', { aud: 'other-registry' }],
    ['from another issuer', { iss: 'someone-else' }],
    ['signed with HS512', { alg: 'HS512' }],
    ['with a malformed access claim', { access: 'everything' }],
  ])('refuses a token %s', async (_what, opts) => {
    const res = await pushWith('team/app', await forge(opts));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses an unsigned (alg none) token and garbage', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({
        iss: 'sigil-registry',
        aud: 'sigil-registry',
        sub: 'alice',
        exp: Math.floor(Date.now() / 1000) + 300,
        access: [{ type: 'repository', name: 'team/app', actions: ['push'] }],
      }),
    ).toString('base64url');
    for (const t of [`${header}.${payload}.`, 'not-a-jwt']) {
      expect((await pushWith('team/app', t)).status).toBe(401);
    }
  });
});

describe('users file', () => {
  it('stores scrypt hashes, never passwords, readable only by the owner', async () => {
    const text = await readFile(join(root, 'users.json'), 'utf8');
    expect(text).not.toContain('alice-password');
    const users = JSON.parse(text).users;
    expect(users.alice.password).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect((await stat(join(root, 'users.json'))).mode & 0o077).toBe(0);
  });

  it('`sigil registry add-user` adds a user who can then get a push token', async () => {
    const program = buildProgram();
    program.exitOverride();
    const out = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await program.parseAsync(
        [
          'registry',
          'add-user',
          'carol',
          '--data-dir',
          reg.dataDir,
          '--password',
          'carol-password',
          '--repository',
          'carol/*',
          '--actions',
          'pull,push',
        ],
        { from: 'user' },
      );
    } finally {
      process.stdout.write = out;
    }
    const t = await token('carol:carol-password', 'repository:carol/app:push');
    expect((await pushWith('carol/app', t)).status).toBe(202);
  });

  it('refuses short passwords and odd user names', async () => {
    await expect(addUser(root, 'dave', 'short')).rejects.toThrow(/at least 8/);
    await expect(addUser(root, 'da:ve', 'long enough')).rejects.toThrow(/user names/);
  });
});

describe('the default: no anonymous pull', () => {
  let priv: TestRegistry;
  let pbase: string;

  beforeAll(async () => {
    // No option and no config.json: what `sigil up` and `sigil serve registry` run without --anonymous-pull.
    priv = await startRegistry({});
    pbase = priv.url;
    await addUser(registryRoot(priv.dataDir), 'alice', 'alice-password');
    await addUser(registryRoot(priv.dataDir), 'bob', 'bob-password!', [
      { repository: 'bob/*', actions: ['pull', 'push'] },
    ]);
  });
  afterAll(async () => {
    await priv.stop();
  });

  async function ptoken(creds: string | undefined, ...scopes: string[]) {
    const params = new URLSearchParams();
    for (const s of scopes) params.append('scope', s);
    const res = await fetch(`${pbase}/v2/token?${params}`, {
      headers: creds ? { authorization: basic(creds) } : {},
    });
    return (await json(res)).token as string;
  }

  it('challenges anonymous pulls and gives anonymous tokens no access', async () => {
    const pushed = await pushBlob(
      pbase,
      'team/app',
      Buffer.from('private layer'),
      bearer(await ptoken(ALICE, 'repository:team/app:pull,push')),
    );
    for (const path of ['manifests/latest', `blobs/${pushed}`, 'tags/list', `referrers/${pushed}`]) {
      const res = await fetch(`${pbase}/v2/team/app/${path}`);
      expect(res.status, path).toBe(401);
      expect(await errorCode(res)).toBe('UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toContain('scope="repository:team/app:pull"');
    }
    const anon = await ptoken(undefined, 'repository:team/app:pull', 'registry:catalog:*');
    const claims = JSON.parse(Buffer.from(anon.split('.')[1], 'base64url').toString());
    expect(claims.access).toEqual([]);
    expect((await fetch(`${pbase}/v2/team/app/blobs/${pushed}`, { headers: bearer(anon) })).status).toBe(401);
    const catalog = await fetch(`${pbase}/v2/_catalog`, { headers: bearer(anon) });
    expect(catalog.status).toBe(401);
    // The same blob with a user's pull token (control).
    const t = await ptoken(ALICE, 'repository:team/app:pull');
    expect((await fetch(`${pbase}/v2/team/app/blobs/${pushed}`, { headers: bearer(t) })).status).toBe(200);
  });

  it('lets users list the catalog with a registry:catalog:* token', async () => {
    const t = await ptoken(ALICE, 'registry:catalog:*');
    const res = await fetch(`${pbase}/v2/_catalog`, { headers: bearer(t) });
    expect(res.status).toBe(200);
  });

  it('asks a user who may pull the source of a mount for a token that says so, then mounts', async () => {
    const layer = await pushBlob(
      pbase,
      'team/source',
      Buffer.from('mountable layer'),
      bearer(await ptoken(ALICE, 'repository:team/source:pull,push')),
    );
    const mountUrl = `${pbase}/v2/team/target/blobs/uploads/?mount=${layer}&from=team/source`;
    const narrow = await ptoken(ALICE, 'repository:team/target:pull,push');
    const first = await fetch(mountUrl, { method: 'POST', headers: bearer(narrow) });
    expect(first.status).toBe(401);
    expect(await errorCode(first)).toBe('UNAUTHORIZED');
    const wanted = first.headers.get('www-authenticate')!.match(/scope="([^"]+)"/)![1];
    expect(wanted).toBe('repository:team/target:pull,push repository:team/source:pull');
    expect(first.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    // What a client does with that challenge: one token for both scopes.
    const wide = await ptoken(ALICE, ...wanted.split(' '));
    const second = await fetch(mountUrl, { method: 'POST', headers: bearer(wide) });
    expect(second.status).toBe(201);
    expect(second.headers.get('location')).toBe(`/v2/team/target/blobs/${layer}`);
  });

  it('does not mount from a repository the token cannot pull', async () => {
    const secret = await pushBlob(
      pbase,
      'team/secret',
      Buffer.from('secret layer'),
      bearer(await ptoken(ALICE, 'repository:team/secret:pull,push')),
    );
    const t = await ptoken(BOB, 'repository:bob/steal:pull,push', 'repository:team/secret:pull');
    const res = await fetch(`${pbase}/v2/bob/steal/blobs/uploads/?mount=${secret}&from=team/secret`, {
      method: 'POST',
      headers: bearer(t),
    });
    expect(res.status).toBe(202);
    const read = await fetch(`${pbase}/v2/bob/steal/blobs/${secret}`, { headers: bearer(t) });
    expect(read.status).toBe(404);
    expect(sha256('secret layer')).toBe(secret);
  });
});

describe('with anonymous pull (--anonymous-pull)', () => {
  let pub: TestRegistry;
  let pubBase: string;
  let layer: string;

  beforeAll(async () => {
    pub = await startRegistry({ anonymousPull: true });
    pubBase = pub.url;
    await addUser(registryRoot(pub.dataDir), 'alice', 'alice-password');
    const t = await fetch(
      `${pubBase}/v2/token?scope=repository:team/app:pull,push&scope=registry:catalog:*`,
      { headers: { authorization: basic(ALICE) } },
    );
    layer = await pushBlob(pubBase, 'team/app', Buffer.from('public layer'), bearer((await json(t)).token));
  });
  afterAll(async () => {
    await pub.stop();
  });

  it('lets anyone pull, with or without an anonymous token, but not push', async () => {
    expect((await fetch(`${pubBase}/v2/team/app/blobs/${layer}`)).status).toBe(200);
    const anon = await json(await fetch(`${pubBase}/v2/token?scope=repository:team/app:pull,push`));
    expect(anon.scope).toBe('repository:team/app:pull');
    const res = await fetch(`${pubBase}/v2/team/app/blobs/${layer}`, { headers: bearer(anon.token) });
    expect(res.status).toBe(200);
    const push = await fetch(`${pubBase}/v2/team/app/blobs/uploads/`, {
      method: 'POST',
      headers: bearer(anon.token),
    });
    expect(push.status).toBe(401);
  });

  it('still lists the catalog to users only', async () => {
    const without = await fetch(`${pubBase}/v2/_catalog`);
    expect(without.status).toBe(401);
    expect(await errorCode(without)).toBe('UNAUTHORIZED');
    expect(without.headers.get('www-authenticate')).toContain('scope="registry:catalog:*"');
    const anon = await json(await fetch(`${pubBase}/v2/token?scope=registry:catalog:*`));
    expect(anon.scope).toBe('');
    expect((await fetch(`${pubBase}/v2/_catalog`, { headers: bearer(anon.token) })).status).toBe(401);
    const user = await json(
      await fetch(`${pubBase}/v2/token?scope=registry:catalog:*`, {
        headers: { authorization: basic(ALICE) },
      }),
    );
    const listed = await fetch(`${pubBase}/v2/_catalog`, { headers: bearer(user.token) });
    expect(listed.status).toBe(200);
    expect((await json(listed)).repositories).toEqual(['team/app']);
  });
});

describe('upload sessions', () => {
  // alice and carol may both push to team/shared; each session still belongs to the one who opened it.
  const repo = 'team/shared';
  const CAROL = 'carol:carol-password';
  let aliceToken: string;
  let carolToken: string;
  let location: string;

  beforeAll(async () => {
    await addUser(root, 'carol', 'carol-password', [{ repository: 'team/*', actions: ['pull', 'push'] }]);
    aliceToken = await token(ALICE, `repository:${repo}:pull,push`);
    carolToken = await token(CAROL, `repository:${repo}:pull,push`);
    const res = await pushWith(repo, aliceToken);
    expect(res.status).toBe(202);
    location = res.headers.get('location')!;
    const patch = await fetch(`${base}${location}`, {
      method: 'PATCH',
      body: 'alice was here',
      headers: bearer(aliceToken),
    });
    expect(patch.status).toBe(202);
  });

  it("answers another user's GET, PATCH, PUT and DELETE of a session with 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const digest = sha256('alice was here');
    const attempts: [string, RequestInit][] = [
      ['GET', {}],
      ['PATCH', { body: ' and carol too' }],
      ['PUT', { body: '' }],
      ['DELETE', {}],
    ];
    for (const [method, init] of attempts) {
      const url = method === 'PUT' ? `${base}${location}?digest=${digest}` : `${base}${location}`;
      const res = await fetch(url, { method, ...init, headers: bearer(carolToken) });
      expect(res.status, method).toBe(404);
      expect(await errorCode(res)).toBe('BLOB_UPLOAD_UNKNOWN');
      // Without any token: challenged before the session is even looked up.
      const anon = await fetch(url, { method, ...init });
      expect(anon.status, `anonymous ${method}`).toBe(401);
    }
    // Nothing carol did reached the session: alice finishes it with exactly her bytes.
    const status = await fetch(`${base}${location}`, { headers: bearer(aliceToken) });
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-13');
    const put = await fetch(`${base}${location}?digest=${digest}`, {
      method: 'PUT',
      headers: bearer(aliceToken),
    });
    expect(put.status).toBe(201);
  });

  it('keeps the owner across a restart (the session is rebuilt from disk)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-upload-owner-'));
    let r = await startRegistry({}, dir);
    try {
      const rroot = registryRoot(dir);
      await addUser(rroot, 'alice', 'alice-password');
      await addUser(rroot, 'carol', 'carol-password');
      const tok = async (creds: string) =>
        (
          await json(
            await fetch(`${r.url}/v2/token?scope=repository:${repo}:pull,push`, {
              headers: { authorization: basic(creds) },
            }),
          )
        ).token as string;
      const started = await fetch(`${r.url}/v2/${repo}/blobs/uploads/`, {
        method: 'POST',
        headers: bearer(await tok(ALICE)),
      });
      const loc = started.headers.get('location')!;
      await r.stop();
      r = await startRegistry({}, dir);
      expect((await fetch(`${r.url}${loc}`, { headers: bearer(await tok(CAROL)) })).status).toBe(404);
      expect((await fetch(`${r.url}${loc}`, { headers: bearer(await tok(ALICE)) })).status).toBe(204);
    } finally {
      await r.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reserves the anonymous token subject as a user name', async () => {
    await expect(addUser(root, 'anonymous', 'long enough')).rejects.toThrow(/reserved/);
  });
});

describe('configuration', () => {
  it('reads anonymousPull and service from <data-dir>/registry/config.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sigil-regcfg-'));
    await mkdir(join(dir, 'registry'), { recursive: true });
    await writeFile(
      join(dir, 'registry', 'config.json'),
      JSON.stringify({ anonymousPull: true, service: 'my-reg' }),
    );
    const r = await startRegistry({}, dir);
    try {
      // Anonymous pull is on: an unknown repository is a 404, not a challenge.
      const res = await fetch(`${r.url}/v2/x/manifests/latest`);
      expect(res.status).toBe(404);
      expect(await errorCode(res)).toBe('NAME_UNKNOWN');
      const push = await fetch(`${r.url}/v2/x/blobs/uploads/`, { method: 'POST' });
      expect(push.status).toBe(401);
      expect(push.headers.get('www-authenticate')).toContain('service="my-reg"');
    } finally {
      await r.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
