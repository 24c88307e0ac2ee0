// Debian's chromium, driven by playwright-core (which downloads no browser): headless, no sandbox
// (we run as root in CI), nothing talking to the network but the pages we open, a fresh profile.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumInstalled(): boolean {
  return fs.existsSync(CHROMIUM);
}

/** A browser with a profile of its own; close() also removes the profile. */
export async function launchChromium(viewport = { width: 1280, height: 860 }): Promise<BrowserContext & { dispose(): Promise<void> }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
  });
  return Object.assign(context, {
    async dispose() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  });
}

/** Every console error and uncaught exception of the page, as it happens. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}
