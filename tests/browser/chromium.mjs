// Headless Chromium for the browser tests: Debian's `chromium` driven by
// playwright-core, with a fresh profile per launch and no background traffic.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Screenshots land here ($DAHEIM_BROWSER_ARTIFACTS, meson sets it).
export const artifacts = process.env.DAHEIM_BROWSER_ARTIFACTS || path.join(repoRoot, 'build/tests/browser/artifacts');

export async function launchChromium() {
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install chromium (scripts/setup.sh)`);
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Playwright gives each launch a fresh, empty profile directory.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
