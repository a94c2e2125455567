// The explorer (src/web/) in a real browser, against a real `sigil up`: after a keyless sign-blob, a search by
// identity and by artifact digest finds the entry, whose page verifies its inclusion proof, checkpoint and SET in the
// browser ("verified"); behind a proxy that flips one proof hash the same page says "failed"; an entry whose
// certificate carries HTML in its SANs, subject and issuer extension shows it as text and runs none of it; the forms
// are labelled and work from the keyboard. With SIGIL_SCREENSHOTS=DIR the main pages are saved there as PNG
// (docs/explorer/ holds the ones in the repository).
import { createHash, sign } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashedRekordProposal } from '../../src/formats/index.js';
import { IDENTITY, type PeerStack, startPeerStack } from '../peers/peers.js';
import { describeBrowser, launchChromium } from './browser.js';
import { HOSTILE_EMAIL, HOSTILE_ISSUER, HOSTILE_URI, hostileCertificate } from './hostile-cert.js';
import { flipProofHash, type Tamper, tamperingProxy } from './tamper.js';

const SHOTS = process.env.SIGIL_SCREENSHOTS;

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The id of the element that has keyboard focus (page code as a string: these tests have no DOM types). */
const activeId = (page: Page) => page.evaluate("document.activeElement?.id ?? ''") as Promise<string>;

/** Waits until the entry page's checks have settled and returns the verdict ("verified" or "failed"). */
async function verdict(page: Page): Promise<string> {
  const v = page.locator('#verdict');
  await v.and(page.locator('.ok, .bad')).waitFor();
  return (await v.textContent()) ?? '';
}

/** Signs one artifact with the hostile certificate (hostile-cert.ts) into the Rekor v1 log. */
async function hostileEntry(url: string, dir: string): Promise<{ uuid: string }> {
  const { keyPem, certPem } = await hostileCertificate(dir);
  const artifact = Buffer.from('hostile artifact\n');
  const digest = createHash('sha256').update(artifact).digest('hex');
  const signature = sign('sha256', artifact, keyPem);
  const res = await fetch(`${url}/api/v1/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(hashedRekordProposal(digest, signature, certPem)),
  });
  if (res.status !== 201) throw new Error(`log refused the hostile entry: ${res.status} ${await res.text()}`);
  const [entryId] = Object.keys((await res.json()) as Record<string, unknown>);
  return { uuid: entryId.slice(-64) };
}

describeBrowser('the explorer in Chromium', () => {
  let s: PeerStack;
  let browser: Browser;
  let page: Page;
  let tamper: Tamper;
  let digest: string;
  let work: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    s = await startPeerStack();
    work = await mkdtemp(join(tmpdir(), 'sigil-web-'));
    const artifact = join(s.work, 'artifact.txt');
    digest = createHash('sha256')
      .update(await readFile(artifact))
      .digest('hex');
    // Two signings, so that the first entry's inclusion proof has a hash to doctor.
    for (const [name, file] of [
      ['one', artifact],
      ['two', join(s.work, 'tampered.txt')],
    ]) {
      const r = await s.sigil(['sign-blob', '--yes', '--bundle', join(work, `${name}.json`), file]);
      if (r.code !== 0) throw new Error(r.output);
    }
    tamper = await tamperingProxy(s.url, (path, body) =>
      path.startsWith('/api/v1/log/entries') ? flipProofHash(body) : undefined,
    );
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
    await tamper?.close();
    await s?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('serves the page under a strict Content-Security-Policy, with no inline script', async () => {
    const res = await fetch(`${s.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect((await fetch(`${s.url}/explorer/explorer.js`)).status).toBe(200);
    expect((await fetch(`${s.url}/explorer/nope.js`)).status).toBe(404);
  });

  it('finds the signing by identity and issuer, and the entry page verifies it in the browser', async () => {
    await page.goto(`${s.url}/`);
    await page.locator('table.entries tbody tr').first().waitFor();
    await screenshot(page, 'home');
    await page.getByLabel('Identity (email or URI SAN)').fill(IDENTITY);
    await page.getByLabel('OIDC issuer (optional)').fill(s.url);
    await page.getByLabel('OIDC issuer (optional)').press('Enter');
    await page.locator('#result-count').waitFor();
    expect(await page.locator('#result-count').textContent()).toContain('2 entries found');
    await screenshot(page, 'search');
    // Another issuer: the same SAN matches nothing.
    await page.goto(
      `${s.url}/#/search?${new URLSearchParams({ identity: IDENTITY, issuer: 'https://other.example' })}`,
    );
    await page.locator('#result-count').waitFor();
    expect(await page.locator('#result-count').textContent()).toContain('0 entries found');
    await page.goBack();
    await page.locator('table.entries a').first().waitFor();
    await page.locator('table.entries a').last().click();
    expect(await verdict(page)).toBe('verified');
    for (const check of ['inclusion', 'checkpoint', 'set', 'consistency'])
      expect(await page.locator(`[data-check="${check}"] strong`).textContent()).toBe('verified');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain(IDENTITY);
    expect(text).toContain('Issuer (V2)');
    expect(text).toContain('Build Signer URI');
    expect(text).toContain(`sha256:${digest}`);
    await screenshot(page, 'entry');
  });

  it('finds the entry by artifact digest', async () => {
    await page.goto(`${s.url}/`);
    await page.getByLabel('SHA-256 of the artifact (hex)').fill(digest);
    await page.getByRole('button', { name: 'Search digest' }).click();
    await page.locator('#result-count').waitFor();
    expect(await page.locator('#result-count').textContent()).toContain('1 entry found');
    await page.locator('table.entries a').click();
    expect(await verdict(page)).toBe('verified');
  });

  it('says "failed" when a proxy doctors one hash of the inclusion proof', async () => {
    await page.goto(`${tamper.url}/#/index/0`);
    expect(await verdict(page)).toBe('failed');
    expect(await page.locator('[data-check="inclusion"] strong').textContent()).toBe('failed');
    // The signatures over data the proxy left alone still verify: only the doctored proof fails.
    expect(await page.locator('[data-check="set"] strong').textContent()).toBe('verified');
    // The same entry straight from the stack verifies.
    await page.goto(`${s.url}/#/index/0`);
    expect(await verdict(page)).toBe('verified');
  });

  it('shows the log with its checkpoints verified', async () => {
    await page.goto(`${s.url}/#/log`);
    const sig = page.locator('[data-check="log-checkpoint"] strong');
    await sig.waitFor();
    expect(await sig.textContent()).toBe('verified');
    expect(await page.locator('[data-check="v2-checkpoint"] strong').textContent()).toBe('verified');
    // A second visit checks consistency with the checkpoint the first one stored.
    await page.reload();
    await page.locator('[data-check="log-consistency"] strong').waitFor();
    expect(await page.locator('[data-check="log-consistency"] .detail').textContent()).toMatch(
      /is a prefix of/,
    );
    await screenshot(page, 'log');
  });

  it('renders HTML from a certificate as text and runs none of it', async () => {
    const { uuid } = await hostileEntry(s.url, work);
    await page.goto(`${s.url}/#/entry/${uuid}`);
    await verdict(page);
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain(HOSTILE_EMAIL);
    expect(text).toContain(HOSTILE_URI);
    expect(text).toContain(HOSTILE_ISSUER);
    expect(text).toContain('<b>evil</b>');
    await page.goto(`${s.url}/#/search?${new URLSearchParams({ identity: HOSTILE_EMAIL })}`);
    await page.locator('#result-count').waitFor();
    expect(await page.locator('table.entries').textContent()).toContain(HOSTILE_EMAIL);
    // No element made from the data: no script, img, b or i anywhere in the page's main part.
    expect(await page.locator('main script, main img, main b, main i').count()).toBe(0);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });

  it('labels every form field and works from the keyboard alone', async () => {
    await page.goto(`${s.url}/`);
    await page.locator('form').first().waitFor();
    const unlabelled = await page.evaluate(
      "[...document.querySelectorAll('input, textarea, select')].filter((el) => el.labels?.length !== 1).map((el) => el.id)",
    );
    expect(unlabelled).toEqual([]);
    // Tab from the top reaches the identity field; typing and Enter search; focus moves to the new heading.
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'identity'; i++) {
      await page.keyboard.press('Tab');
      focused = await activeId(page);
    }
    expect(focused).toBe('identity');
    await page.keyboard.type(IDENTITY);
    await page.keyboard.press('Enter');
    await page.locator('#result-count').waitFor();
    expect(await activeId(page)).toBe('view-title');
    // Tab onward to the first result link and open it with Enter.
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate("document.activeElement?.closest('table.entries') !== null")) break;
    }
    await page.keyboard.press('Enter');
    expect(await verdict(page)).toBe('verified');
  });
});
