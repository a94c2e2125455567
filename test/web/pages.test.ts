// The explorer's Rekor v2, CT log and registry pages (src/web/client/pages.ts) in a real Chromium against a real
// `sigil up --rekor-v2`: after a keyless sign-blob, an image signed and attested, a v2 entry's page reads it from
// the entry bundles and verifies its inclusion (proof from hash tiles) against the v2 checkpoint; behind a proxy
// that doctors the hash tiles it says "failed". The CT page verifies the signed tree head and each certificate's
// inclusion, and fails on a doctored root. The registry page asks for credentials, lists the repository, and per
// digest its tags, signatures, attestations and referrers, each referrer linking to its v2 entry page. HTML in a
// v2 entry's certificate and in a repository's annotations and bundles is shown as text and runs nothing.
import { createHash, sign } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashedRekordRequestV2, keyDetails, pemToDer } from '../../src/formats/index.js';
import { IDENTITY, type PeerStack, REPOSITORY, startPeerStack } from '../peers/peers.js';
import { describeBrowser, launchChromium } from './browser.js';
import { HOSTILE_EMAIL, HOSTILE_ISSUER, HOSTILE_URI, hostileCertificate } from './hostile-cert.js';
import { type Tamper, tamperingProxy } from './tamper.js';

/** With SIGIL_SCREENSHOTS=DIR (docs/explorer/ holds the committed ones), each page as the test left it. */
async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SIGIL_SCREENSHOTS;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

const HOSTILE_TYPE = '<img src=x onerror=window.pwned=3>';
const HOSTILE_REPO = 'acme/hostile';

async function verdict(page: Page): Promise<string> {
  const v = page.locator('#verdict');
  await v.and(page.locator('.ok, .bad')).waitFor();
  return (await v.textContent()) ?? '';
}

const flipEveryByte = (body: Buffer) => Buffer.from(body.map((b) => b ^ 1));

/** The registry user `sigil up` made, from the data dir's registry-auth.json. */
async function credentials(dataDir: string): Promise<{ user: string; password: string }> {
  const file = JSON.parse(await readFile(join(dataDir, 'registry-auth.json'), 'utf8')) as {
    auths: Record<string, { auth: string }>;
  };
  const [user, ...rest] = Buffer.from(Object.values(file.auths)[0].auth, 'base64')
    .toString('utf8')
    .split(':');
  return { user, password: rest.join(':') };
}

/** Pushes, as the registry user, an image to HOSTILE_REPO with HTML in cosign's .att annotations and in a referrer. */
async function hostileRepository(url: string, user: string, password: string): Promise<void> {
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const q = new URLSearchParams({ service: 'sigil-registry', scope: `repository:${HOSTILE_REPO}:pull,push` });
  const t = await fetch(`${url}/v2/token?${q}`, { headers: { authorization: basic } });
  if (t.status !== 200) throw new Error(`token: ${t.status}`);
  const auth = { authorization: `Bearer ${((await t.json()) as { token: string }).token}` };
  const blob = async (data: Buffer) => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const post = await fetch(`${url}/v2/${HOSTILE_REPO}/blobs/uploads/`, { method: 'POST', headers: auth });
    const loc = new URL(post.headers.get('location') ?? '', url);
    loc.searchParams.set('digest', digest);
    const put = await fetch(loc, {
      method: 'PUT',
      body: data,
      headers: { ...auth, 'content-type': 'application/octet-stream' },
    });
    if (put.status !== 201) throw new Error(`blob: ${put.status} ${await put.text()}`);
    return { digest, size: data.length };
  };
  /** Puts a manifest under `ref`, or by its own digest. */
  const manifest = async (ref: string | undefined, m: object) => {
    const body = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m }),
    );
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const res = await fetch(`${url}/v2/${HOSTILE_REPO}/manifests/${ref ?? digest}`, {
      method: 'PUT',
      body,
      headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    if (res.status !== 201) throw new Error(`manifest: ${res.status} ${await res.text()}`);
    return { digest, size: body.length };
  };
  const config = {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    ...(await blob(Buffer.from('{}'))),
  };
  const layer = {
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    ...(await blob(Buffer.from('hostile layer'))),
  };
  const image = await manifest('latest', { config, layers: [layer] });
  // cosign's attestation tag, its layer annotated with HTML (and a bundle whose log index is markup).
  const att = await blob(
    Buffer.from('{"payloadType":"application/vnd.in-toto+json","payload":"","signatures":[]}'),
  );
  await manifest(`${image.digest.replace(':', '-')}.att`, {
    config,
    layers: [
      {
        mediaType: 'application/vnd.dsse.envelope.v1+json',
        ...att,
        annotations: {
          predicateType: HOSTILE_TYPE,
          'dev.sigstore.cosign/bundle': '{"Payload":{"logIndex":"<b>1</b>"}}',
        },
      },
    ],
  });
  // A referrer whose predicate type annotation is HTML and whose bundle names a markup log index.
  const bundle = await blob(
    Buffer.from(
      JSON.stringify({
        verificationMaterial: {
          tlogEntries: [{ logIndex: '<i>2</i>', kindVersion: { version: HOSTILE_TYPE } }],
        },
      }),
    ),
  );
  await manifest(undefined, {
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', ...(await blob(Buffer.from('{}'))) },
    layers: [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', ...bundle }],
    subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...image },
    annotations: { 'dev.sigstore.bundle.predicateType': HOSTILE_TYPE },
  });
}

describeBrowser('the explorer’s Rekor v2, CT and registry pages in Chromium', () => {
  let s: PeerStack;
  let browser: Browser;
  let page: Page;
  let tiles: Tamper;
  let sth: Tamper;
  let work: string;
  let digest: string;
  let hostileIndex: number;
  let creds: { user: string; password: string };
  const pageErrors: string[] = [];

  beforeAll(async () => {
    s = await startPeerStack({ args: ['--rekor-v2'] });
    work = await mkdtemp(join(tmpdir(), 'sigil-web-pages-'));
    const artifact = join(s.work, 'artifact.txt');
    digest = createHash('sha256')
      .update(await readFile(artifact))
      .digest('hex');
    const signed = await s.sigil(['sign-blob', '--yes', '--bundle', join(work, 'blob.json'), artifact]);
    if (signed.code !== 0) throw new Error(signed.output);
    const image = await s.pushImage('v1', 'pages test image');
    for (const args of [
      ['sign', '--yes', image],
      ['attest', '--yes', '--predicate', join(s.work, 'predicate.json'), '--type', 'slsaprovenance', image],
    ]) {
      const r = await s.sigil(args);
      if (r.code !== 0) throw new Error(r.output);
    }
    // A key-signed v2 entry whose certificate carries HTML.
    const { keyPem, certPem } = await hostileCertificate(work);
    const data = Buffer.from('hostile v2 artifact\n');
    const request = hashedRekordRequestV2(
      createHash('sha256').update(data).digest(),
      sign('sha256', data, keyPem),
      {
        der: pemToDer(certPem)[0],
        certificate: true,
        keyDetails: keyDetails('PKIX_ECDSA_P256_SHA_256') as NonNullable<ReturnType<typeof keyDetails>>,
      },
    );
    const res = await fetch(`${s.url}/api/v2/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    if (res.status !== 201)
      throw new Error(`v2 log refused the hostile entry: ${res.status} ${await res.text()}`);
    hostileIndex = Number(((await res.json()) as { logIndex: string }).logIndex);
    creds = await credentials(s.dataDir);
    await hostileRepository(s.url, creds.user, creds.password);
    // Doctored views: every level-0 hash tile of the v2 log, or the CT tree head's root.
    tiles = await tamperingProxy(s.url, (path, body) =>
      path.startsWith('/api/v2/tile/0/') ? flipEveryByte(body) : undefined,
    );
    sth = await tamperingProxy(s.url, (path, body) => {
      if (path !== '/ct/v1/get-sth') return undefined;
      const j = JSON.parse(body.toString('utf8'));
      j.sha256_root_hash = flipEveryByte(Buffer.from(j.sha256_root_hash, 'base64')).toString('base64');
      return Buffer.from(JSON.stringify(j));
    });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('dialog', (d) => {
      pageErrors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await tiles?.close();
    await sth?.close();
    await s?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('opens a Rekor v2 entry from the log page and verifies its inclusion against the v2 checkpoint', async () => {
    await page.goto(`${s.url}/#/log`);
    await page.locator('[data-check="v2-checkpoint"]').waitFor();
    await page.getByRole('link', { name: '0', exact: true }).click();
    expect(await verdict(page)).toBe('verified');
    for (const check of ['v2-checkpoint', 'inclusion'])
      expect(await page.locator(`[data-check="${check}"] strong`).textContent()).toBe('verified');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain(IDENTITY);
    expect(text).toContain(`sha256:${digest}`);
    expect(text).toContain('hashedrekord 0.0.2');
    await screenshot(page, 'v2-entry');
  });

  it('says "failed" when a proxy doctors the v2 hash tiles, and for an index past the checkpoint', async () => {
    await page.goto(`${tiles.url}/#/v2/0`);
    expect(await verdict(page)).toBe('failed');
    expect(await page.locator('[data-check="inclusion"] strong').textContent()).toBe('failed');
    expect(await page.locator('[data-check="v2-checkpoint"] strong').textContent()).toBe('verified');
    await page.goto(`${s.url}/#/v2/99999`);
    await page.locator('main [role="alert"]').waitFor();
    expect(await page.locator('main [role="alert"]').textContent()).toContain('no entry 99999');
  });

  it('shows the CT log: tree head verified, each certificate the CA issued with its inclusion verified', async () => {
    await page.goto(`${s.url}/`);
    await page.getByRole('link', { name: 'CT log' }).click();
    await page.locator('#ct-entries').waitFor();
    expect(await page.locator('[data-check="ct-sth"] strong').textContent()).toBe('verified');
    const rows = page.locator('#ct-entries tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(3);
    await page.locator('[data-check^="ct-inclusion-"].pending').first().waitFor({ state: 'detached' });
    const results = await page.locator('[data-check^="ct-inclusion-"] strong').allTextContents();
    expect(results.length).toBe(await rows.count());
    expect(new Set(results)).toEqual(new Set(['verified']));
    expect(await page.locator('#ct-entries').textContent()).toContain(IDENTITY);
    expect(await page.locator('#ct-entries').textContent()).toContain('precertificate');
    await screenshot(page, 'ct');
    // A doctored root: the tree head's signature fails, and so does every inclusion.
    await page.goto(`${sth.url}/#/ct`);
    await page.locator('#ct-entries').waitFor();
    expect(await page.locator('[data-check="ct-sth"] strong').textContent()).toBe('failed');
  });

  it('lists the registry behind its credentials, with signatures, attestations and referrers per digest', async () => {
    await page.goto(`${s.url}/#/registry`);
    await page.locator('#registry-login').waitFor();
    await page.getByLabel('Username').fill(creds.user);
    await page.getByLabel('Password').fill(creds.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: REPOSITORY }).click();
    await page.locator('#result-count').waitFor();
    const section = page.locator('section.digest').first();
    const text = (await section.textContent()) ?? '';
    expect(text).toContain('v1');
    // With a v2 log, cosign's signature is an OCI referrer only; the attestation is also under the .att tag.
    expect(await section.locator('li.attached').count(), text).toBe(1);
    expect(await section.locator('li.attached').textContent()).toContain('https://slsa.dev/provenance');
    expect(await section.locator('li.attached').textContent()).toContain(IDENTITY);
    const referrers = await section.locator('li.referrer').allTextContents();
    expect(
      referrers.some((r) => r.includes('https://sigstore.dev/cosign/sign/v1')),
      text,
    ).toBe(true);
    expect(
      referrers.some((r) => r.includes('https://slsa.dev/provenance')),
      text,
    ).toBe(true);
    await screenshot(page, 'registry');
    // Each referrer links to its entry in the v2 log, whose page verifies.
    const links = section.locator('li.referrer a');
    expect(await links.count()).toBeGreaterThanOrEqual(2);
    expect(await links.first().textContent()).toMatch(/^Rekor v2 entry \d+$/);
    await links.first().click();
    expect(await verdict(page)).toBe('verified');
    expect((await page.locator('main').textContent()) ?? '').toContain(IDENTITY);
  });

  it('renders HTML from a v2 certificate and from the registry as text and runs none of it', async () => {
    await page.goto(`${s.url}/#/v2/${hostileIndex}`);
    expect(await verdict(page)).toBe('verified');
    const text = (await page.locator('main').textContent()) ?? '';
    for (const hostile of [HOSTILE_EMAIL, HOSTILE_URI, HOSTILE_ISSUER, '<b>evil</b>'])
      expect(text).toContain(hostile);
    expect(await page.locator('main script, main img, main b, main i').count()).toBe(0);

    await page.goto(`${s.url}/#/registry/${encodeURIComponent(HOSTILE_REPO)}`);
    await page.locator('#result-count').waitFor();
    const repo = (await page.locator('main').textContent()) ?? '';
    expect(repo).toContain(HOSTILE_TYPE);
    expect(repo).toContain('(no log entry recorded)');
    expect(await page.locator('main script, main img, main b, main i').count()).toBe(0);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });
});
