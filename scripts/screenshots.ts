// `npm run screenshots`: the pictures in the README, taken of the real pages in headless Chromium.
// The docs site is served from this checkout on a free port; the dashboard's picture needs the
// broker (found as npm start finds it) and runs a system of its own on a vhost of its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { withVhost } from '../shared/broker/broker-url.ts';
import { findBroker } from '../shared/broker/find-broker.ts';
import { ManagementApi } from '../shared/broker/management-api.ts';
import { silentLogger } from '../shared/log.ts';
import { BrokerWatch } from '../solutions/dashboard/broker-watch.ts';
import { OrderBoard } from '../solutions/dashboard/order-board.ts';
import { startDashboard } from '../solutions/dashboard/server.ts';
import { startSystem } from '../solutions/system.ts';
import { defineCli, parseOrExit } from '../shared/cli/args.ts';
import { serveDocs } from '../grader/cli/docs.ts';
import { chromiumInstalled, CHROMIUM, launchChromium } from '../tests/support/chromium.ts';

const SCREENSHOTS_CLI = defineCli({
  command: 'npm run screenshots',
  synopsis: ['npm run screenshots [-- --out <dir>]'],
  summary: "Takes the README's screenshots of the docs site and the live dashboard in headless Chromium (the dashboard's with a system of its own on a throwaway vhost).",
  options: { out: { type: 'string', value: '<dir>', default: 'docs/screenshots', description: 'where the PNG files go' } },
});
const { values } = parseOrExit(SCREENSHOTS_CLI);
if (!chromiumInstalled()) {
  console.error(`no browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  process.exit(1);
}
const outDir = path.resolve(values.out);
fs.mkdirSync(outDir, { recursive: true });

const shots: Array<{ file: string; url: string; clip?: string }> = [
  { file: 'docs-lesson.png', url: 'milestones/05-acks-prefetch/' },
  { file: 'docs-topology.png', url: 'docs/topology.html', clip: 'figure' },
  { file: 'docs-order-flow.png', url: 'docs/architecture.html', clip: 'figure' },
];

const { server, url: base } = await serveDocs(process.cwd(), 0, '127.0.0.1');
const browser = await launchChromium({ width: 1360, height: 860 });
try {
  const page = await browser.newPage();
  for (const shot of shots) {
    await page.goto(new URL(shot.url, base).href);
    const file = path.join(outDir, shot.file);
    if (shot.clip) await page.locator(shot.clip).first().screenshot({ path: file });
    else await page.screenshot({ path: file });
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
  await dashboardShot(page);
} finally {
  await browser.dispose();
  server.close();
}

/** The dashboard of a system of its own, on a vhost of its own: three orders placed, one of each ending. */
async function dashboardShot(page: Page): Promise<void> {
  const broker = await findBroker({ allowContainer: false });
  const api = new ManagementApi(broker.management);
  const vhost = `screenshots-${process.pid}`;
  await api.createVhost(vhost);
  const url = withVhost(broker.url, vhost);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'screenshots-'));
  const system = await startSystem({ brokerUrl: url, dataDir, config: { deliveryDelayMs: 300 }, logFor: () => silentLogger });
  const board = new OrderBoard();
  const watch = new BrokerWatch(url, { ...broker.management }, board, silentLogger);
  const dashboard = await startDashboard({ host: '127.0.0.1', port: 0, orderApiUrl: system.baseUrl as string, board, watch, dataDir, log: silentLogger });
  watch.start();
  try {
    await page.goto(dashboard.url);
    for (const preset of ['seed', 'out-of-stock', 'declined', 'express']) {
      await page.click(`[data-preset="${preset}"]`);
      await page.click('#order-form button[type="submit"]');
    }
    await page.locator('#order-list li[data-status="completed"]').nth(1).waitFor({ timeout: 30_000 });
    // A finished order, so that its events and its whole trace are shown.
    await page.locator('#order-list li[data-status="completed"]').first().click();
    await page.locator('#trace-list li[data-span="publish order.completed"]').waitFor({ timeout: 10_000 });
    await page.waitForTimeout(2500); // one more management sample, so unacked and rates are shown
    const file = path.join(outDir, 'dashboard.png');
    await page.screenshot({ path: file });
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  } finally {
    await dashboard.stop();
    await watch.stop();
    await system.stop();
    await api.deleteVhost(vhost);
    fs.rmSync(dataDir, { recursive: true, force: true });
    await broker.stop();
  }
}
