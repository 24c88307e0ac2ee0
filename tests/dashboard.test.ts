// The live dashboard of `npm start`, in headless Chromium: an order placed through its form moves
// to completed on the page without a reload; a service stopped from the page lets its queue fill,
// and started again, drains it; the parked messages show their reason; nothing on the page errs.
// And without a browser: a broker connection that goes away is said, and comes back by itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/log.ts';
import { BrokerWatch } from '../solutions/dashboard/broker-watch.ts';
import { OrderBoard } from '../solutions/dashboard/order-board.ts';
import { chromiumInstalled, launchChromium, pageErrors } from './support/chromium.ts';
import { runStart, type StartProcess, stopIfRunning, waitForOutput } from './support/start-process.ts';
import { createTestVhost, type TestVhost } from './support/vhost.ts';

// CI installs chromium (.ci/run); elsewhere a missing browser skips this file, saying why.
const browserMissing = !chromiumInstalled() && !process.env.CI;

describe.skipIf(browserMissing)('the dashboard of npm start', () => {
  let vhost: TestVhost;
  let run: StartProcess | undefined;
  let dashboardUrl: string;

  beforeAll(async () => {
    vhost = await createTestVhost('dashboard');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-workshop-dashboard-'));
    run = runStart([], { RABBITMQ_URL: vhost.url, RABBITMQ_MANAGEMENT_URL: vhost.api.credentials.baseUrl, DATA_DIR: dataDir, HTTP_PORT: '0', DELIVERY_DELAY_MS: '200' });
    await waitForOutput(run, 'Ctrl-C stops everything', 90_000);
    const url = /Dashboard[^\n]*?(http:\/\/localhost:\d+\/)/.exec(run.output())?.[1];
    expect(url, `the banner names the dashboard's address:\n${run.output()}`).toBeDefined();
    dashboardUrl = url as string;
  }, 120_000);

  afterAll(async () => {
    await stopIfRunning(run);
    await vhost?.delete();
  });

  it('shows an order placed with its form reach completed, and a stopped service’s queue fill and drain', { timeout: 120_000 }, async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = pageErrors(page);
      await page.goto(dashboardUrl);
      await page.locator('#broker.ok').waitFor({ timeout: 15_000 });

      // The seed's order, through the form: it moves to completed, pushed by the server.
      await page.click('[data-preset="seed"]');
      await page.click('#order-form button[type="submit"]');
      await page.locator('#order-list li[data-status="completed"]').first().waitFor({ timeout: 30_000 });
      expect(await page.locator('#history-list li').count(), 'its events, on click').toBeGreaterThanOrEqual(8);
      // And its trace, from the services' spans: one row per publish and delivery, the order.created publish among them.
      await expect.poll(() => page.locator('#trace-list li[data-span="publish order.completed"]').count(), { timeout: 10_000, message: "the order's trace reaches order.completed" }).toBe(1);
      expect(await page.locator('#trace-list li[data-span="POST /orders"]').count(), 'it starts at the POST').toBe(1);

      // Stop inventory from the page: orders wait in inventory.queue.
      const inventory = page.locator('#service-list li[data-service="inventory"]');
      await inventory.locator('button[data-action="stop"]').click();
      await page.locator('#service-list li[data-service="inventory"][data-state="stopped"]').waitFor({ timeout: 30_000 });
      for (let i = 0; i < 3; i++) await page.click('#order-form button[type="submit"]');
      const ready = page.locator('#queue-table tr[data-queue="inventory.queue"] td.ready');
      await expect.poll(async () => Number(await ready.textContent()), { timeout: 20_000, message: 'inventory.queue fills while inventory is stopped' }).toBeGreaterThanOrEqual(3);

      // Start it again: the queue drains and the waiting orders complete.
      await inventory.locator('button[data-action="start"]').click();
      await page.locator('#service-list li[data-service="inventory"][data-state="running"]').waitFor({ timeout: 60_000 });
      await expect.poll(async () => Number(await ready.textContent()), { timeout: 30_000, message: 'inventory.queue drains once inventory is back' }).toBe(0);
      await expect.poll(() => page.locator('#order-list li[data-status="completed"]').count(), { timeout: 30_000 }).toBe(4);

      // A message no service can read is parked, and the page shows why (text, never HTML).
      const connection = await amqp.connect(vhost.url);
      const channel = await connection.createConfirmChannel();
      channel.publish('order.exchange', 'order.created', Buffer.from('<b>not json</b>'), { persistent: true, contentType: 'application/json' });
      await channel.waitForConfirms();
      await connection.close();
      await expect
        .poll(async () => {
          await page.click('#show-dlq');
          return page.locator('#dlq-table tbody tr').count();
        }, { timeout: 20_000, message: 'the parked message on the page' })
        .toBeGreaterThan(0);
      expect(await page.locator('#dlq-table tbody').textContent()).toMatch(/JSON/);
      expect(await page.locator('#dlq-table b').count(), 'message text is never HTML').toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await browser.dispose();
    }
  });
});

describe('the dashboard when the broker goes away', () => {
  let vhost: TestVhost;
  beforeAll(async () => {
    vhost = await createTestVhost('dashboard-broker');
    // The exchange its tap binds to, as the services would have declared it.
    const connection = await amqp.connect(vhost.url);
    await (await connection.createChannel()).assertExchange('audit.fanout.exchange', 'fanout', { durable: true });
    await connection.close();
  });
  afterAll(async () => {
    await vhost?.delete();
  });

  it('says the broker is unreachable when its connection is closed, and reconnects by itself', { timeout: 60_000 }, async () => {
    const watch = new BrokerWatch(vhost.url, vhost.api.credentials, new OrderBoard(), silentLogger);
    const states: boolean[] = [];
    watch.on('broker', ({ connected }) => states.push(connected));
    watch.start();
    try {
      await expect.poll(() => states.at(-1), { timeout: 15_000 }).toBe(true);
      await expect.poll(async () => (await vhost.api.listConnections(vhost.vhost)).length, { timeout: 15_000 }).toBeGreaterThan(0);
      for (const connection of await vhost.api.listConnections(vhost.vhost)) await vhost.api.closeConnection(connection.name, 'the test closes the dashboard');
      await expect.poll(() => states.includes(false), { timeout: 15_000, message: 'the page is told the broker is gone' }).toBe(true);
      await expect.poll(() => states.at(-1), { timeout: 20_000, message: 'and that it is back' }).toBe(true);
    } finally {
      await watch.stop();
    }
  });
});
