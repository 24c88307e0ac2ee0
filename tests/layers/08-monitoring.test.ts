// Layer 8: queue statistics from the management API. The broker samples them every few seconds
// (collect_statistics_interval), so the tests poll with a deadline rather than expect them at once.
import { describe, expect, it } from 'vitest';
import type { QueueStats } from '../../shared/layers/08-monitoring.ts';
import { monitoring } from '../../solutions/layers/08-monitoring.ts';
import { eventually } from '../support/eventually.ts';
import { useVhostChannel } from '../support/vhost.ts';

const SAMPLED = { timeoutMs: 15_000, intervalMs: 250 };

const broker = useVhostChannel('layer-08');

describe('monitoring', () => {
  it('reports ready and unacknowledged messages and consumers of a queue', async () => {
    await broker.channel.assertQueue('watched.queue', { durable: false });
    for (let i = 0; i < 5; i++) broker.channel.sendToQueue('watched.queue', Buffer.from(`m${i}`));
    await broker.channel.waitForConfirms();
    // A consumer that takes 2 and never acks them.
    const holder = await broker.connection.createChannel();
    await holder.prefetch(2);
    await holder.consume('watched.queue', () => {}, { noAck: false });

    const expected = { name: 'watched.queue', ready: 3, unacked: 2, consumers: 1 };
    let last: QueueStats | undefined;
    const stats = await eventually(
      async () => {
        last = await monitoring.queueStats(broker.vhost.management, 'watched.queue');
        return last.ready === 3 && last.unacked === 2 && last.consumers === 1 && last;
      },
      { ...SAMPLED, what: `stats ${JSON.stringify(expected)}` },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last seen: ${JSON.stringify(last)}`);
    });
    expect(stats).toMatchObject(expected);
    expect(stats.publishRate).toBeGreaterThanOrEqual(0);
    expect(stats.deliverRate).toBeGreaterThanOrEqual(0);
    await holder.close();
  });

  it('reports zeros for a queue the broker has not sampled yet', async () => {
    await broker.channel.assertQueue('brand-new.queue', { durable: false });
    expect(await monitoring.queueStats(broker.vhost.management, 'brand-new.queue')).toEqual({
      name: 'brand-new.queue',
      ready: 0,
      unacked: 0,
      consumers: 0,
      publishRate: 0,
      deliverRate: 0,
    });
  });

  it('lists every queue of the vhost, sorted by name', async () => {
    for (const name of ['b.queue', 'c.queue', 'a.queue']) await broker.channel.assertQueue(name, { durable: false });
    const names = (await monitoring.listQueueStats(broker.vhost.management)).map((stats) => stats.name);
    expect(names).toEqual(expect.arrayContaining(['a.queue', 'b.queue', 'c.queue']));
    expect(names).toEqual([...names].sort());
  });

  it('names the status and the path when the API refuses', async () => {
    await expect(monitoring.queueStats(broker.vhost.management, 'no-such.queue')).rejects.toThrow(
      `management API GET /queues/${encodeURIComponent(broker.vhost.vhost)}/no-such.queue answered 404`,
    );
    await expect(monitoring.listQueueStats({ ...broker.vhost.management, password: 'wrong' })).rejects.toThrow(/answered 401/);
  });
});
