// The live dashboard of `npm start`, in headless Chromium: an order placed with one click on a
// preset moves to completed on the page without a reload, its events in causal order and its trace
// on a time axis; with that order open, the orders, the services with their controls and the queues
// are all on the first screen of a projector (1920×1080 and 1280×720); every control can be reached
// and named by keyboard and screen reader, changes are announced, axe-core finds nothing serious and
// no width from a phone's to a desktop's scrolls sideways; a service stopped from the page lets its
// queue fill, and started again, drains it; the parked messages show their reason; nothing errs.
// And without a browser: a broker connection that goes away is said, and comes back by itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/log.ts';
import { BrokerWatch } from '../solutions/dashboard/broker-watch.ts';
import { hasDelayedRetry } from '../shared/broker/broker-features.ts';
import { OrderBoard } from '../solutions/dashboard/order-board.ts';
import type { Page } from 'playwright-core';
import { chromiumInstalled, launchChromium, pageErrors } from './support/chromium.ts';
import { diagramLabelProblems, widthAndAxeProblems } from './support/page-checks.ts';
import { runStart, type StartProcess, stopIfRunning, waitForOutput } from './support/start-process.ts';
import { useTestVhost } from './support/vhost.ts';

// CI installs chromium (.ci/run); elsewhere a missing browser skips this file, saying why.
const browserMissing = !chromiumInstalled() && !process.env.CI;

describe.skipIf(browserMissing)('the dashboard of npm start', () => {
  const vhost = useTestVhost('dashboard');
  let run: StartProcess | undefined;
  let dashboardUrl: string;

  beforeAll(async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-workshop-dashboard-'));
    run = runStart([], {
      RABBITMQ_URL: vhost.url,
      RABBITMQ_MANAGEMENT_URL: vhost.api.credentials.baseUrl,
      DATA_DIR: dataDir,
      HTTP_PORT: '0',
      DELIVERY_DELAY_MS: '1000',
    });
    await waitForOutput(run, 'Ctrl-C stops everything', 90_000);
    const url = /Dashboard[^\n]*?(http:\/\/localhost:\d+\/)/.exec(run.output())?.[1];
    expect(url, `the banner names the dashboard's address:\n${run.output()}`).toBeDefined();
    dashboardUrl = url as string;
  }, 120_000);

  afterAll(async () => {
    await stopIfRunning(run);
  });

  it(
    'shows an order placed with one click reach completed, all on a projector’s first screen, and a stopped service’s queue fill and drain',
    { timeout: 120_000 },
    async () => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const errors = pageErrors(page);
        await page.goto(dashboardUrl);
        await page.locator('#broker.ok').waitFor({ timeout: 15_000 });

        // The seed's order, with one click on its preset: it moves to completed, pushed by the server.
        await page.click('[data-preset="seed"]');
        await page.locator('#order-list li[data-status="completed"]').first().waitFor({ timeout: 30_000 });
        expect(await page.locator('#order-list li').count(), 'one click, one order').toBe(1);
        const events = await page.locator('#history-list li code').allTextContents();
        expect(events.length, 'its events, shown as it is selected').toBeGreaterThanOrEqual(8);
        // In causal order: the delayed delivery.confirmed (published into the delay queue before
        // order.shipped) after order.shipped, order.completed last.
        expect(events.indexOf('delivery.confirmed'), events.join(', ')).toBeGreaterThan(events.indexOf('order.shipped'));
        expect(events.at(-1)).toBe('order.completed');
        // And its trace, from the services' spans: one row per delivery (each with what it published), on a time axis, each bar with its duration.
        await expect
          .poll(() => page.locator('#trace-list li[data-span="process shipping.delivered"][data-publishes~="order.completed"]').count(), {
            timeout: 10_000,
            message: "the order's trace reaches order.completed",
          })
          .toBe(1);
        expect(await page.locator('#trace-list li[data-span="POST /orders"]').count(), 'it starts at the POST').toBe(1);
        expect(await page.locator('#trace-axis .ticks span').allTextContents(), 'a time axis').toEqual(expect.arrayContaining(['0.0 ms']));
        const durations = await page.locator('#trace-list li .duration').allTextContents();
        expect(durations.length).toBe(await page.locator('#trace-list li').count());
        for (const duration of durations) expect(duration).toMatch(/^\d+(\.\d+)? m?s$/);

        // With that order and its trace open: on a projector, all of it on the first screen.
        for (const viewport of [
          { width: 1920, height: 1080 },
          { width: 1280, height: 720 },
        ]) {
          await page.setViewportSize(viewport);
          await page.evaluate(() => window.scrollTo(0, 0));
          expect(await offScreen(page), `at ${viewport.width}×${viewport.height}`).toEqual([]);
          expect(await overlapsInServices(page), `service names clear of their buttons at ${viewport.width} px`).toEqual([]);
          expect(await diagramLabelProblems(page, '#graph svg'), `the topology's labels at ${viewport.width} px`).toEqual([]);
        }
        // Numbers under right-aligned headers.
        expect(await page.locator('#queue-table th').evaluateAll((ths) => ths.map((th) => getComputedStyle(th).textAlign))).toEqual([
          'left',
          'right',
          'right',
          'right',
          'right',
          'right',
        ]);
        // No width scrolls sideways, and axe-core finds nothing serious, on a projector and on a phone.
        expect(await widthAndAxeProblems(page)).toEqual([]);
        await page.setViewportSize({ width: 1280, height: 720 });

        // The keyboard reaches the order rows; every service's button says which service it stops.
        await page.locator('#order-form button[type="submit"]').focus();
        let reached = false;
        for (let i = 0; i < 10 && !reached; i++) {
          await page.keyboard.press('Tab');
          reached = await page.evaluate(() => Boolean(document.activeElement?.closest('#order-list li')));
        }
        expect(reached, 'Tab reaches the order list').toBe(true);
        await page.keyboard.press('Enter');
        expect(await page.locator('#order-list li.selected button[aria-current="true"]').count()).toBe(1);
        for (const service of ['order', 'inventory', 'payment', 'shipping', 'notification', 'audit']) {
          await expect(
            page.getByRole('button', { name: `Stop ${service}`, exact: true }).count(),
            `a button named "Stop ${service}"`,
          ).resolves.toBe(1);
        }

        // Stop inventory from the page: orders wait in inventory.queue.
        const inventory = page.locator('#service-list li[data-service="inventory"]');
        await inventory.locator('button[data-action="stop"]').click();
        await page.locator('#service-list li[data-service="inventory"][data-state="stopped"]').waitFor({ timeout: 30_000 });
        expect(await page.locator('#announcer').getAttribute('aria-live')).toBe('polite');
        await expect
          .poll(() => page.locator('#announcer').textContent(), { timeout: 5_000, message: 'said to a screen reader' })
          .toMatch(/inventory stopped/);
        for (let i = 0; i < 3; i++) await page.click('#order-form button[type="submit"]');
        const ready = page.locator('#queue-table tr[data-queue="inventory.queue"] td.ready');
        await expect
          .poll(async () => Number(await ready.textContent()), {
            timeout: 20_000,
            message: 'inventory.queue fills while inventory is stopped',
          })
          .toBeGreaterThanOrEqual(3);

        // Start it again: the queue drains and the waiting orders complete.
        await inventory.locator('button[data-action="start"]').click();
        await page.locator('#service-list li[data-service="inventory"][data-state="running"]').waitFor({ timeout: 60_000 });
        await expect
          .poll(async () => Number(await ready.textContent()), {
            timeout: 30_000,
            message: 'inventory.queue drains once inventory is back',
          })
          .toBe(0);
        await expect.poll(() => page.locator('#order-list li[data-status="completed"]').count(), { timeout: 30_000 }).toBe(4);

        // A message no service can read is parked, and the page shows why (text, never HTML).
        const connection = await amqp.connect(vhost.url);
        const channel = await connection.createConfirmChannel();
        channel.publish('order.exchange', 'order.created', Buffer.from('<b>not json</b>'), {
          persistent: true,
          contentType: 'application/json',
        });
        await channel.waitForConfirms();
        await connection.close();
        await expect
          .poll(
            async () => {
              await page.click('#show-dlq');
              return page.locator('#dlq-table tbody tr').count();
            },
            { timeout: 20_000, message: 'the parked message on the page' },
          )
          .toBeGreaterThan(0);
        expect(await page.locator('#dlq-table tbody').textContent()).toMatch(/JSON/);
        expect(await page.locator('#dlq-table b').count(), 'message text is never HTML').toBe(0);
        expect(errors).toEqual([]);
      } finally {
        await browser.dispose();
      }
    },
  );
});

/** Which of the orders, the services with their buttons and the queue table reach past the first screen. */
function offScreen(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const parts = [
      '#order-list',
      '#service-list',
      '#queue-table',
      '#history-list',
      '#trace-scroll',
      ...[...document.querySelectorAll('#service-list button')].map((_, i) => `#service-list li:nth-child(${i + 1}) button`),
    ];
    return parts.filter((selector) => {
      const box = document.querySelector(selector)?.getBoundingClientRect();
      return !box || box.height === 0 || box.bottom > window.innerHeight || box.right > window.innerWidth;
    });
  });
}

/** Services whose name runs under their Stop/Start button. */
function overlapsInServices(page: Page): Promise<string[]> {
  return page.locator('#service-list li').evaluateAll((items) =>
    items
      .filter((li) => {
        const name = (li.querySelector('.name') as HTMLElement).getBoundingClientRect();
        const button = (li.querySelector('button') as HTMLElement).getBoundingClientRect();
        return name.right > button.left && name.left < button.right && name.bottom > button.top && name.top < button.bottom;
      })
      .map((li) => li.getAttribute('data-service') ?? '?'),
  );
}

describe('the dashboard when the broker goes away', () => {
  const vhost = useTestVhost('dashboard-broker', async ({ url }) => {
    // The exchange its tap binds to, as the services would have declared it.
    const connection = await amqp.connect(url);
    await (await connection.createChannel()).assertExchange('audit.fanout.exchange', 'fanout', { durable: true });
    await connection.close();
  });

  it('says the broker is unreachable when its connection is closed, and reconnects by itself', { timeout: 60_000 }, async () => {
    const watch = new BrokerWatch(vhost.url, vhost.api.credentials, new OrderBoard(), silentLogger);
    const states: boolean[] = [];
    watch.on('broker', ({ connected }) => states.push(connected));
    watch.start();
    try {
      await expect.poll(() => states.at(-1), { timeout: 15_000 }).toBe(true);
      await expect.poll(async () => (await vhost.api.listConnections(vhost.vhost)).length, { timeout: 15_000 }).toBeGreaterThan(0);
      for (const connection of await vhost.api.listConnections(vhost.vhost))
        await vhost.api.closeConnection(connection.name, 'the test closes the dashboard');
      await expect.poll(() => states.includes(false), { timeout: 15_000, message: 'the page is told the broker is gone' }).toBe(true);
      await expect.poll(() => states.at(-1), { timeout: 20_000, message: 'and that it is back' }).toBe(true);
    } finally {
      await watch.stop();
    }
  });
});

describe('the queues the dashboard lists', () => {
  const vhost = useTestVhost('dashboard-queues', async ({ url }) => {
    const connection = await amqp.connect(url);
    await (await connection.createChannel()).assertExchange('audit.fanout.exchange', 'fanout', { durable: true });
    await connection.close();
  });

  it(
    'with quorum queues, no retry queues on RabbitMQ 4.3+ (the queues retry in place), the retry queues before',
    { timeout: 30_000 },
    async () => {
      const watch = new BrokerWatch(vhost.url, vhost.api.credentials, new OrderBoard(), silentLogger, 'quorum');
      const states: boolean[] = [];
      watch.on('broker', ({ connected }) => states.push(connected));
      watch.start();
      try {
        await expect.poll(() => states.at(-1), { timeout: 15_000 }).toBe(true);
        const names = watch.queueViews().map((view) => view.name);
        const delayedRetry = hasDelayedRetry((await vhost.api.overview()).rabbitmq_version);
        expect(names).toContain('inventory.queue');
        expect(names.includes('inventory.queue.retry'), `on ${delayedRetry ? '4.3+' : '3.x'}`).toBe(!delayedRetry);
      } finally {
        await watch.stop();
      }
    },
  );
});
