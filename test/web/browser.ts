// Headless Chromium for the explorer's tests: Debian's `chromium` (installed by .ci/run) driven by playwright-core.
// When it is missing, CI (CI=true) fails and a developer's run skips with the install command, as for the peers.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { describe, it } from 'vitest';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export function launchChromium(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('chromium is not installed');
  // --no-sandbox: tests run as root in CI, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}

export function describeBrowser(title: string, body: () => void): void {
  if (CHROMIUM) describe(title, body);
  else if (process.env.CI === 'true')
    describe(title, () => {
      it('has chromium installed', () => {
        throw new Error('chromium is not installed: apt-get install -y chromium (see .ci/run)');
      });
    });
  else describe.skip(`${title} (skipped: chromium not installed; apt-get install -y chromium)`, body);
}
