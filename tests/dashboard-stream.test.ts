// The dashboard with the audit log on a stream (AUDIT_STREAM=on, milestone 10): without a browser,
// its watch follows the stream's newest offset and samples its size; in headless Chromium, the page
// shows them in the Streams table, which scrolls no width sideways and has nothing axe-core finds
// serious. Without the stream (the default) the table stays hidden: tests/dashboard.test.ts.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/log.ts';
import { AUDIT_STREAM, EXCHANGES } from '../shared/topology/topology.ts';
import { BrokerWatch } from '../solutions/dashboard/broker-watch.ts';
import { OrderBoard } from '../solutions/dashboard/order-board.ts';
import { startDashboard } from '../solutions/dashboard/server.ts';
import { streams } from '../solutions/layers/10-streams.ts';
import { chromiumInstalled, launchChromium, pageErrors } from './support/chromium.ts';
import { widthAndAxeProblems } from './support/page-checks.ts';
import { useTestVhost } from './support/vhost.ts';

const browserMissing = !chromiumInstalled() && !process.env.CI;

describe('the dashboard of a system whose audit log is a stream', () => {
  const vhost = useTestVhost('dashboard-stream');
  let watch: BrokerWatch;
  let connection: amqp.ChannelModel;
  let channel: amqp.ConfirmChannel;

  /** Publishes `count` events' worth of bodies to the audit exchange, which feeds the stream. */
  const publish = async (count: number) => {
    for (let n = 0; n < count; n++) channel.publish(EXCHANGES.audit, '', Buffer.from(JSON.stringify({ n })));
    await channel.waitForConfirms();
  };

  beforeAll(async () => {
    connection = await amqp.connect(vhost.url);
    channel = await connection.createConfirmChannel();
    await channel.assertExchange(EXCHANGES.audit, 'fanout', { durable: true });
    await streams.declareStream(channel, AUDIT_STREAM);
    await channel.bindQueue(AUDIT_STREAM.name, EXCHANGES.audit, '');
    await publish(5);
    watch = new BrokerWatch(vhost.url, vhost.api.credentials, new OrderBoard(), silentLogger);
    watch.start();
  });

  afterAll(async () => {
    await watch?.stop();
    await connection?.close();
  });

  const auditStream = () => watch.streamViews().find((s) => s.name === AUDIT_STREAM.name);

  it('follows the newest offset as events arrive, and samples the size', { timeout: 30_000 }, async () => {
    await expect.poll(() => auditStream()?.lastOffset, { timeout: 15_000, message: 'the last offset of the 5 already there' }).toBe(4);
    await publish(3);
    await expect.poll(() => auditStream()?.lastOffset, { timeout: 10_000, message: 'the offset moves with new events' }).toBe(7);
    // The management API samples a stream's size every few seconds (RabbitMQ 3.10 later than 4.3).
    await expect.poll(() => auditStream()?.messages, { timeout: 20_000, message: "the stream's size, sampled" }).toBe(8);
  });

  it.skipIf(browserMissing)('shows the stream, its last offset and its size, at every width', { timeout: 60_000 }, async () => {
    const dashboard = await startDashboard({
      host: '127.0.0.1',
      port: 0,
      orderApiUrl: 'http://127.0.0.1:9',
      board: new OrderBoard(),
      watch,
      log: silentLogger,
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = pageErrors(page);
      await page.goto(dashboard.url);
      const row = page.locator(`#stream-table tr[data-stream="${AUDIT_STREAM.name}"]`);
      await row.waitFor({ timeout: 15_000 });
      await expect.poll(() => row.locator('.last-offset').textContent(), { timeout: 10_000 }).toBe('7');
      await publish(1);
      await expect.poll(() => row.locator('.last-offset').textContent(), { timeout: 10_000, message: 'pushed to the page' }).toBe('8');
      expect(await widthAndAxeProblems(page)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.dispose();
      await dashboard.stop();
    }
  });
});
