/**
 * A real headless Chromium for the dashboard's browser tests: Debian's `chromium` package, driven
 * by playwright-core (the driver alone, no browser download). Missing Chromium fails the test.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from '../../cli/local/repo.ts';

/** Where Chromium is: Debian's package, or TM_CHROMIUM. */
export const CHROMIUM = process.env.TM_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots of every run, git-ignored. */
export const SCREENSHOTS = join(repoRoot, '.tmp', 'screenshots');

/** Launches headless Chromium; as root (CI's containers) without its sandbox, which needs a user. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium), as .ci/run does, or set TM_CHROMIUM`,
    );
  const asRoot = process.getuid?.() === 0;
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: asRoot ? ['--no-sandbox'] : [],
  });
}

/** Saves a full-page screenshot as .tmp/screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
