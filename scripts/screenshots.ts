// `npm run screenshots`: the pictures in the README, taken of the real pages in headless Chromium,
// at a desktop width and a phone's (390 px). The docs site is served from this checkout on a free
// port; the dashboard's pictures need the broker (found as npm start finds it) and run a system of
// their own on a vhost of their own, with payment stopped so that its queue fills, as in the demo.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { withVhost } from '../shared/broker/broker-url.ts';
import { findBroker } from '../shared/broker/find-broker.ts';
import { ManagementApi } from '../shared/broker/management-api.ts';
import { silentLogger } from '../shared/log.ts';
import type { ServiceName } from '../shared/messages/events.ts';
import { BrokerWatch } from '../solutions/dashboard/broker-watch.ts';
import { OrderBoard } from '../solutions/dashboard/order-board.ts';
import { type ServiceControl, startDashboard } from '../solutions/dashboard/server.ts';
import { referenceLayers } from '../solutions/layers/index.ts';
import { ServiceRuntime } from '../solutions/runtime/service-runtime.ts';
import { SERVICES } from '../solutions/services/index.ts';
import { type RunningSystem, startSystem, systemConfig } from '../solutions/system.ts';
import { defineCli, EnvironmentError, parseOrExit, runMain } from '../shared/cli/args.ts';
import { serveDocs } from '../grader/cli/docs.ts';
import { chromiumInstalled, CHROMIUM, launchChromium } from '../tests/support/chromium.ts';

const SCREENSHOTS_CLI = defineCli({
  command: 'npm run screenshots',
  synopsis: ['npm run screenshots [-- --out <dir>]'],
  summary:
    "Takes the README's screenshots of the docs site and the live dashboard in headless Chromium, at desktop and phone widths (the dashboard's with a system of its own on a throwaway vhost).",
  options: { out: { type: 'string', value: '<dir>', default: 'docs/screenshots', description: 'where the PNG files go' } },
});
const { values } = parseOrExit(SCREENSHOTS_CLI);
const outDir = path.resolve(values.out);

const DESKTOP = { width: 1360, height: 860 };
const PHONE = { width: 390, height: 844 };

const docsShots: Array<{ file: string; url: string; clip?: string; viewport: { width: number; height: number } }> = [
  { file: 'docs-lesson.png', url: 'milestones/05-acks-prefetch/', viewport: DESKTOP },
  { file: 'docs-topology.png', url: 'docs/topology.html', clip: 'figure svg', viewport: DESKTOP },
  { file: 'docs-order-flow.png', url: 'docs/architecture.html', clip: 'figure svg', viewport: DESKTOP },
  { file: 'docs-lesson-phone.png', url: 'milestones/05-acks-prefetch/', viewport: PHONE },
];

async function main(): Promise<void> {
  // No browser, or no broker for the dashboard's pictures: the environment's (exit 3); a bug: 4 (shared/cli/errors.ts).
  if (!chromiumInstalled()) throw new EnvironmentError(`no browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  fs.mkdirSync(outDir, { recursive: true });
  const { server, url: base } = await serveDocs(process.cwd(), 0, '127.0.0.1');
  const browser = await launchChromium(DESKTOP);
  try {
    const page = await browser.newPage();
    for (const shot of docsShots) {
      await page.setViewportSize(shot.viewport);
      await page.goto(new URL(shot.url, base).href);
      const file = path.join(outDir, shot.file);
      if (shot.clip) await page.locator(shot.clip).first().screenshot({ path: file });
      else await page.screenshot({ path: file });
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
    await dashboardShots(browser);
  } finally {
    await browser.dispose();
    server.close();
  }
}

/** Stopping and starting services of an in-process system, as npm start's supervisor does for its processes. */
function inProcessControl(system: RunningSystem, brokerUrl: string, dataDir: string): ServiceControl {
  const states: Record<string, 'running' | 'stopped' | 'starting' | 'stopping'> = Object.fromEntries(
    Object.keys(system.runtimes).map((name) => [name, 'running']),
  );
  const listeners: Array<() => void> = [];
  const set = (service: ServiceName, state: (typeof states)[string]) => {
    states[service] = state;
    for (const listener of listeners) listener();
  };
  return {
    states: () => ({ ...states }),
    async stop(service) {
      set(service, 'stopping');
      await system.runtime(service).stop();
      set(service, 'stopped');
    },
    async start(service) {
      set(service, 'starting');
      system.runtimes[service] = await ServiceRuntime.start(
        SERVICES[service],
        systemConfig({ brokerUrl, dataDir, config: { deliveryDelayMs: 300 } }),
        referenceLayers,
        silentLogger,
      );
      set(service, 'running');
    },
    onChange: (listener) => listeners.push(listener),
  };
}

/**
 * The dashboard as the room sees it: one order of each ending placed with the presets, a finished
 * one open with its trace, payment stopped and orders waiting in payment.queue.
 */
async function dashboardShots(context: BrowserContext): Promise<void> {
  const broker = await findBroker({ mayStartBroker: false });
  const api = new ManagementApi(broker.management);
  const vhost = `screenshots-${process.pid}`;
  await api.createVhost(vhost);
  const url = withVhost(broker.url, vhost);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'screenshots-'));
  const system = await startSystem({ brokerUrl: url, dataDir, config: { deliveryDelayMs: 300 }, logFor: () => silentLogger });
  const board = new OrderBoard();
  const watch = new BrokerWatch(url, { ...broker.management }, board, silentLogger);
  const control = inProcessControl(system, url, dataDir);
  const dashboard = await startDashboard({
    host: '127.0.0.1',
    port: 0,
    orderApiUrl: system.baseUrl as string,
    board,
    watch,
    control,
    dataDir,
    log: silentLogger,
  });
  watch.start();
  try {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.goto(dashboard.url);
    for (const preset of ['seed', 'out-of-stock', 'declined', 'express']) {
      await page.click(`[data-preset="${preset}"]`);
      await page.locator('#place-result', { hasText: 'placed' }).waitFor();
    }
    await page.locator('#order-list li[data-status="completed"]').nth(1).waitFor({ timeout: 30_000 });
    // Payment stopped: the next orders wait in payment.queue.
    await page.click('#service-list li[data-service="payment"] button[data-action="stop"]');
    await page.locator('#service-list li[data-service="payment"][data-state="stopped"]').waitFor({ timeout: 30_000 });
    for (let i = 0; i < 5; i++) await page.click('[data-preset="seed"]');
    await page.waitForFunction(
      () => Number(document.querySelector('#queue-table tr[data-queue="payment.queue"] td.ready')?.textContent) >= 5,
      undefined,
      { timeout: 20_000 },
    );
    // A finished order open, so that its events and its whole trace are shown.
    await page.locator('#order-list li[data-status="completed"]').first().click();
    await page.locator('#trace-list li[data-publishes~="order.completed"]').waitFor({ timeout: 10_000 });
    await page.waitForTimeout(2500); // one more management sample, so unacked and rates are shown
    await shoot(page, 'dashboard.png');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await shoot(page, 'dashboard-1920.png');
    await page.setViewportSize(PHONE);
    await shoot(page, 'dashboard-phone.png');
    await control.start('payment');
  } finally {
    await dashboard.stop();
    await watch.stop();
    await system.stop();
    await api.deleteVhost(vhost);
    fs.rmSync(dataDir, { recursive: true, force: true });
    await broker.stop();
  }
}

async function shoot(page: Page, name: string): Promise<void> {
  const file = path.join(outDir, name);
  await page.evaluate(() => window.scrollTo(0, 0)); // the first screen, as the room sees it
  await page.screenshot({ path: file });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

await runMain(main);
