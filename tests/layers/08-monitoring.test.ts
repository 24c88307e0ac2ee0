// Layer 8: queue statistics from the management API. The broker samples them every few seconds
// (collect_statistics_interval), so the tests poll with a deadline rather than expect them at once.
import { type ChannelModel, type ConfirmChannel, connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueStats } from '../../shared/layers/08-monitoring.ts';
import { monitoring } from '../../solutions/layers/08-monitoring.ts';
import { eventually } from '../support/eventually.ts';
import { createTestVhost, type TestVhost } from '../support/vhost.ts';

const SAMPLED = { timeoutMs: 15_000, intervalMs: 250 };
let vhost: TestVhost;
let connection: ChannelModel;
let channel: ConfirmChannel;

beforeAll(async () => {
  vhost = await createTestVhost('layer-08');
  connection = await connect(vhost.url);
  channel = await connection.createConfirmChannel();
});

afterAll(async () => {
  await connection?.close();
  await vhost?.delete();
});

describe('monitoring', () => {
  it('reports ready and unacknowledged messages and consumers of a queue', async () => {
    await channel.assertQueue('watched.queue', { durable: false });
    for (let i = 0; i < 5; i++) channel.sendToQueue('watched.queue', Buffer.from(`m${i}`));
    await channel.waitForConfirms();
    // A consumer that takes 2 and never acks them.
    const holder = await connection.createChannel();
    await holder.prefetch(2);
    await holder.consume('watched.queue', () => {}, { noAck: false });

    const expected = { name: 'watched.queue', ready: 3, unacked: 2, consumers: 1 };
    let last: QueueStats | undefined;
    const stats = await eventually(async () => {
      last = await monitoring.queueStats(vhost.management, 'watched.queue');
      return last.ready === 3 && last.unacked === 2 && last.consumers === 1 && last;
    }, { ...SAMPLED, what: `stats ${JSON.stringify(expected)}` }).catch((error: Error) => {
      throw new Error(`${error.message}; last seen: ${JSON.stringify(last)}`);
    });
    expect(stats).toMatchObject(expected);
    expect(stats.publishRate).toBeGreaterThanOrEqual(0);
    expect(stats.deliverRate).toBeGreaterThanOrEqual(0);
    await holder.close();
  });

  it('reports zeros for a queue the broker has not sampled yet', async () => {
    await channel.assertQueue('brand-new.queue', { durable: false });
    expect(await monitoring.queueStats(vhost.management, 'brand-new.queue')).toEqual({
      name: 'brand-new.queue', ready: 0, unacked: 0, consumers: 0, publishRate: 0, deliverRate: 0,
    });
  });

  it('lists every queue of the vhost, sorted by name', async () => {
    for (const name of ['b.queue', 'c.queue', 'a.queue']) await channel.assertQueue(name, { durable: false });
    const names = (await monitoring.listQueueStats(vhost.management)).map((stats) => stats.name);
    expect(names).toEqual(expect.arrayContaining(['a.queue', 'b.queue', 'c.queue']));
    expect(names).toEqual([...names].sort());
  });

  it('names the status and the path when the API refuses', async () => {
    await expect(monitoring.queueStats(vhost.management, 'no-such.queue')).rejects.toThrow(
      `management API GET /queues/${encodeURIComponent(vhost.vhost)}/no-such.queue answered 404`,
    );
    await expect(monitoring.listQueueStats({ ...vhost.management, password: 'wrong' })).rejects.toThrow(/answered 401/);
  });
});
