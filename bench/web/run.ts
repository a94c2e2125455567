// Explorer benchmark (#18): first page load and search answer times in headless Chromium, from the browser's own
// clock (performance.now() in the page): load = navigation start until the latest-entries table is drawn; search =
// form submit until the result count is drawn (digest search); entry = opening the newest entry's page until its
// verdict (inclusion proof, checkpoint, SET and consistency checked in the page) is drawn. Runs against a stack given by
// --url (e.g. a `sigil up` whose log was filled to 1 M entries), or, without it, starts `sigil up` on a fresh data
// dir and adds --entries key-signed hashedrekord entries over the API first. Prints one JSON line with p50/p95.
//   npm run build && node --import tsx bench/web/run.ts [--url http://127.0.0.1:3000] [--entries 1000] [--runs 20]
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startStackProcess } from '../../src/demo/index.js';
import { hashedRekordProposal } from '../../src/formats/index.js';
import { freePort } from '../lib/server-process.js';
import { percentile } from '../lib/stats.js';

const arg = (name: string, fallback?: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Number(arg('runs', '20'));
const ROOT = join(import.meta.dirname, '..', '..');

let url = arg('url');
let stop = async () => {};
let digest = createHash('sha256').update('entry 0').digest('hex');
if (!url) {
  const dataDir = await mkdtemp(join(tmpdir(), 'sigil-bench-web-'));
  const stack = await startStackProcess(
    { node: process.execPath, script: join(ROOT, 'bin/sigil.js') },
    ['--data-dir', dataDir, '--port', String(await freePort()), '--log-level', 'warn'],
    { env: process.env, cwd: ROOT, timeoutMs: 60_000, dataDir, echo: process.stderr },
  );
  url = stack.endpoints.url;
  stop = async () => {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const n = Number(arg('entries', '1000'));
  for (let i = 0; i < n; i++) {
    const artifact = Buffer.from(`entry ${i}`);
    const proposal = hashedRekordProposal(
      createHash('sha256').update(artifact).digest('hex'),
      sign('sha256', artifact, privateKey),
      pem,
    );
    const res = await fetch(`${url}/api/v1/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(proposal),
    });
    if (res.status !== 201) throw new Error(`entry ${i}: ${res.status}`);
  }
} else {
  // On a given stack, search for the artifact of its latest entry.
  const info = (await (await fetch(`${url}/api/v1/log`)).json()) as { treeSize: number };
  const e = (await (await fetch(`${url}/api/v1/log/entries?logIndex=${info.treeSize - 1}`)).json()) as Record<
    string,
    { body: string }
  >;
  const body = JSON.parse(Buffer.from(Object.values(e)[0].body, 'base64').toString());
  digest = body.spec?.data?.hash?.value ?? digest;
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const loads: number[] = [];
const searches: number[] = [];
const verifies: number[] = [];
try {
  for (let r = 0; r < RUNS; r++) {
    // A new context each time: a cold cache, as a first visit.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}/`);
    await page.locator('table.entries, main p:has-text("empty")').first().waitFor();
    loads.push((await page.evaluate('performance.now()')) as number);
    await page.getByLabel('SHA-256 of the artifact (hex)').fill(digest);
    await page.evaluate(
      "document.getElementById('by-digest').addEventListener('submit', () => { window.__t0 = performance.now(); })",
    );
    await page.getByRole('button', { name: 'Search digest' }).click();
    await page.locator('#result-count').waitFor();
    searches.push((await page.evaluate('performance.now() - window.__t0')) as number);
    const t0 = (await page.evaluate('performance.now()')) as number;
    await page.locator('table.entries a').first().click();
    await page.locator('#verdict.ok, #verdict.bad').waitFor();
    verifies.push(((await page.evaluate('performance.now()')) as number) - t0);
    if ((await page.locator('#verdict').textContent()) !== 'verified')
      throw new Error('the entry did not verify');
    await context.close();
  }
} finally {
  await browser.close();
  await stop();
}
const ms = (xs: number[], p: number) =>
  Number(
    percentile(
      [...xs].sort((a, b) => a - b),
      p,
    ).toFixed(1),
  );
console.log(
  JSON.stringify({
    bench: 'web',
    url,
    runs: RUNS,
    firstLoadMs: { p50: ms(loads, 50), p95: ms(loads, 95) },
    digestSearchMs: { p50: ms(searches, 50), p95: ms(searches, 95) },
    entryVerifyMs: { p50: ms(verifies, 50), p95: ms(verifies, 95) },
  }),
);
